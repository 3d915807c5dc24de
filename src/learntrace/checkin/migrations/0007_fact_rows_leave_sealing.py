"""The seal column leaves the fact rows: evidence 0004 queued the unsealed facts and kept the seals' spans."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0004_facts_queue_and_spans'),
        ('checkin', '0006_merge_online_presence_and_arrival_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='checkinevent',
            name='checkinevent_unsealed',
        ),
        migrations.RemoveField(
            model_name='checkinevent',
            name='seal',
        ),
    ]
