"""A beat's details in a few bytes (`beat`); rows written before keep their JSON `details`,
which their seals hashed (docs/evidence.md, *A beat's details*)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_course_project_number_and_hours'),
        ('org', '0006_importbatch_queued'),
        ('records', '0005_fact_rows_leave_sealing'),
    ]

    operations = [
        migrations.AddField(
            model_name='creditedtime',
            name='beat',
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='creditedtime',
            name='details',
            field=models.JSONField(blank=True, default=dict, null=True),
        ),
        migrations.AddConstraint(
            model_name='creditedtime',
            constraint=models.CheckConstraint(condition=models.Q(('beat__isnull', True), ('details__isnull', True), _connector='OR'), name='details_in_one_form'),
        ),
    ]
