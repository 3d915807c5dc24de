"""The seal column leaves the fact rows: evidence 0004 queued the unsealed facts and kept the seals' spans."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0004_facts_queue_and_spans'),
        ('certificates', '0001_certificates'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='certificate',
            name='certificate_unsealed',
        ),
        migrations.RemoveField(
            model_name='certificate',
            name='seal',
        ),
    ]
