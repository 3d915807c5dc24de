"""Running sums of credited time by person, hour, kind and category (records/sums.py), built from the
facts already recorded. The triggers that keep them are installed first, in the same transaction: on
PostgreSQL, creating them waits for the fact writers in flight and holds new ones until the sums
are built and committed, so no fact is counted twice or missed."""

import django.db.models.deletion
from django.db import migrations, models

from learntrace.records import sums


def build(apps, schema_editor):
    sums.install_triggers(schema_editor.connection)
    sums.rebuild(connection=schema_editor.connection)


def unbuild(apps, schema_editor):
    sums.drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_course_project_number_and_hours'),
        ('org', '0006_importbatch_queued'),
        ('records', '0008_beat_key_without_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='CreditedHour',
            fields=[
                ('pk', models.CompositePrimaryKey('employee_id', 'hour', 'kind', 'category_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('hour', models.IntegerField()),
                ('kind', models.CharField(choices=[('video', 'Video'), ('document', 'Document'), ('offline', 'Offline meeting'), ('live', 'Live online meeting')], max_length=16)),
                ('seconds', models.BigIntegerField()),
                ('last_at', models.DateTimeField()),
                ('category', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.category')),
                ('employee', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='org.employee')),
            ],
        ),
        migrations.RunPython(build, unbuild),
    ]
