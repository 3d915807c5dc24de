"""The seal column leaves the fact rows: evidence 0004 queued the unsealed facts and kept the seals' spans."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0004_facts_queue_and_spans'),
        ('exams', '0001_exam_centre'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='examresult',
            name='examresult_unsealed',
        ),
        migrations.RemoveField(
            model_name='examresult',
            name='seal',
        ),
    ]
