"""The idempotency key of beats, (attempt, number), loses its unique index: the tracker tells a new beat
from a replay by the highest number its attempt keeps (tracking.0003), under the person's clock lock.
About 40 bytes a beat fact (docs/evidence.md, BENCHMARKS.md)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0007_fact_indexes_that_queries_use'),
        ('tracking', '0003_attempt_keeps_its_highest_beat'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='creditedtime',
            name='one_fact_per_beat',
        ),
    ]
