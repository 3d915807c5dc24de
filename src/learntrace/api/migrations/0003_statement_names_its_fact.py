"""Statements name the fact they tell of, and senders claim what they post.

Statements queued before name no fact: each is linked here to its fact (a completion or a
meeting's credited time up to the store's old mark) by recomputing the statement id the fact
was given, so that nothing delivered is queued or sent again. The floors then start at 0: the
next run looks once through every fact for those the old marks skipped (committed after a
higher id had moved the mark), and queues them."""

import uuid

from django.conf import settings
from django.db import migrations, models

CHUNK = 900  # ids per IN (...) clause: below SQLite's variable limit
PLAYED = "https://w3id.org/xapi/video/verbs/played"


def _statement_id(kind: str, key: str) -> uuid.UUID:
    """As xapi.statement_id made them (a copy: a migration keeps the rule of its time)."""
    return uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, settings.SITE_URL), f"{kind}:{key}")


def link_statements_to_facts(apps, schema_editor):
    RecordStore = apps.get_model("api", "RecordStore")
    Statement = apps.get_model("api", "Statement")
    Completion = apps.get_model("records", "Completion")
    CreditedTime = apps.get_model("records", "CreditedTime")
    for store in RecordStore.objects.all():
        Statement.objects.filter(store=store, verb=PLAYED).update(fact_kind="video-day")
        kinds = [("completion", Completion.objects.filter(pk__lte=store.completion_mark)),
                 ("attended", CreditedTime.objects.filter(pk__lte=store.attendance_mark, source="checkin"))]
        for kind, facts in kinds:
            ids = list(facts.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), CHUNK):
                by_statement = {_statement_id(kind, str(fact_id)): fact_id for fact_id in ids[start:start + CHUNK]}
                for row in Statement.objects.filter(store=store, statement_id__in=list(by_statement), fact_kind=""):
                    Statement.objects.filter(pk=row.pk).update(fact_kind=kind, fact_id=by_statement[row.statement_id])
    RecordStore.objects.update(completion_mark=0, attendance_mark=0)


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_rate_window"),
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="statement", name="fact_kind", field=models.CharField(blank=True, max_length=16)),
        migrations.AddField(
            model_name="statement", name="fact_id", field=models.BigIntegerField(blank=True, null=True)),
        migrations.AddField(
            model_name="statement", name="claim", field=models.UUIDField(blank=True, null=True)),
        migrations.AddField(
            model_name="statement", name="claimed_until", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(fields=["store", "fact_kind", "fact_id"], name="statement_fact")),
        migrations.RunPython(link_statements_to_facts, migrations.RunPython.noop),
        migrations.RenameField(model_name="recordstore", old_name="completion_mark", new_name="completion_floor"),
        migrations.RenameField(model_name="recordstore", old_name="attendance_mark", new_name="attendance_floor"),
    ]
