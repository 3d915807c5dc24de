"""Each attempt keeps the highest number of its tracker's beats, so that a new beat is told from a replay
without the unique index on (attempt, number) that records.0008 drops. Filled from the facts while that
index is still there; the numbers of the server's own facts (answered questions) are not the tracker's."""

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

SERVER_SEQ_BASE = 10_000_001  # tracking.attention.SERVER_SEQ_BASE when this was written


def fill(apps, schema_editor):
    Attempt = apps.get_model("tracking", "Attempt")
    CreditedTime = apps.get_model("records", "CreditedTime")
    highest = (CreditedTime.objects.filter(attempt_id=OuterRef("pk"), seq__lt=SERVER_SEQ_BASE)
               .values("attempt_id").annotate(highest=Max("seq")).values("highest"))
    Attempt.objects.update(last_seq=Coalesce(Subquery(highest), Value(-1)))


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0007_fact_indexes_that_queries_use'),
        ('tracking', '0002_attention_checks'),
    ]

    operations = [
        migrations.AddField(
            model_name='attempt',
            name='last_seq',
            field=models.IntegerField(default=-1),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
