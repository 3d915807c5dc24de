"""The seal column leaves the fact rows: evidence 0004 queued the unsealed facts and kept the seals' spans."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0004_facts_queue_and_spans'),
        ('plans', '0004_merge_credit_rules_and_exams'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='reflectionevent',
            name='reflectionevent_unsealed',
        ),
        migrations.RemoveField(
            model_name='reflectionevent',
            name='seal',
        ),
    ]
