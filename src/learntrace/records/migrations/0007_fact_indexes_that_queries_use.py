"""The fact table keeps the indexes queries use: (employee, occurred_at), the idempotency key and the
primary key. No query looks credited time up by course or category alone (docs/evidence.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_course_project_number_and_hours'),
        ('records', '0006_beat_details_compact'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='creditedtime',
            name='records_cre_course__b20c12_idx',
        ),
        migrations.AlterField(
            model_name='creditedtime',
            name='category',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.category'),
        ),
    ]
