"""The seal column leaves the fact rows: evidence 0004 queued the unsealed facts and kept the seals' spans."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0004_facts_queue_and_spans'),
        ('catalog', '0002_course_project_number_and_hours'),
        ('org', '0005_department_employer'),
        ('records', '0004_outside_credit'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='completion',
            name='completion_unsealed',
        ),
        migrations.RemoveIndex(
            model_name='correction',
            name='correction_unsealed',
        ),
        migrations.RemoveIndex(
            model_name='creditedtime',
            name='creditedtime_unsealed',
        ),
        migrations.RemoveIndex(
            model_name='outsidecredit',
            name='outsidecredit_unsealed',
        ),
        migrations.RemoveIndex(
            model_name='quizattempt',
            name='quizattempt_unsealed',
        ),
        migrations.RemoveField(
            model_name='completion',
            name='seal',
        ),
        migrations.RemoveField(
            model_name='correction',
            name='seal',
        ),
        migrations.RemoveField(
            model_name='creditedtime',
            name='seal',
        ),
        migrations.RemoveField(
            model_name='outsidecredit',
            name='seal',
        ),
        migrations.RemoveField(
            model_name='quizattempt',
            name='seal',
        ),
        migrations.AlterField(
            model_name='creditedtime',
            name='course',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='credited_times', to='catalog.course'),
        ),
        migrations.AlterField(
            model_name='creditedtime',
            name='employee',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='credited_times', to='org.employee'),
        ),
    ]
