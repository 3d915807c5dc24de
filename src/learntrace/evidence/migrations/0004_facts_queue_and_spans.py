"""Fact rows leave sealing: the facts not sealed yet are queued in evidence_pending (from now on by a
trigger on every fact table, installed after migrate: evidence/queue.py), and each seal's id span per
source is kept in evidence_sealspan. The seal column of the fact tables is dropped by the next
migration of each app, after this one has read it."""

import struct

import django.db.models.deletion
from django.db import migrations, models

ENTRY = struct.Struct(">BQ32s")  # as in canonical.py, frozen here
# source code -> model label, as in sources.py, frozen here
FACTS = {1: "records.CreditedTime", 2: "records.Completion", 3: "records.QuizAttempt", 4: "checkin.CheckInEvent",
         5: "plans.ReflectionEvent", 6: "records.Correction", 7: "records.OutsideCredit", 8: "exams.ExamResult",
         9: "certificates.Certificate"}


def _tables(apps):
    return {code: apps.get_model(label)._meta.db_table for code, label in FACTS.items()}


def queue_and_spans(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    Seal, SealSpan = apps.get_model("evidence", "Seal"), apps.get_model("evidence", "SealSpan")
    tables = _tables(apps)
    with connection.cursor() as cursor:
        for code, table in tables.items():
            cursor.execute(f"INSERT INTO evidence_pending (source, fact_id) "
                           f"SELECT {code}, id FROM {quote(table)} WHERE seal_id IS NULL")
    for seal in Seal.objects.only("pk", "leaves").iterator(chunk_size=100):
        data, spans = bytes(seal.leaves), {}
        for code, fact_id, _leaf in ENTRY.iter_unpack(data):
            first, last = spans.get(code, (fact_id, fact_id))
            spans[code] = (min(first, fact_id), max(last, fact_id))
        SealSpan.objects.bulk_create([SealSpan(seal_id=seal.pk, source=code, first_id=first, last_id=last)
                                      for code, (first, last) in spans.items()])


def seal_column_back(apps, schema_editor):
    """Backwards: drop the triggers. The fact apps' migrations give the seal column back empty, so the
    facts are sealed again by the next seal."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in _tables(apps).values():
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS evidence_queue ON {quote(table)}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {quote('evidence_queue_' + table)}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS evidence_queue_facts()")


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0003_verification_unsealed'),
        ('records', '0004_outside_credit'),
        ('checkin', '0006_merge_online_presence_and_arrival_index'),
        ('plans', '0004_merge_credit_rules_and_exams'),
        ('exams', '0001_exam_centre'),
        ('certificates', '0001_certificates'),
    ]

    operations = [
        migrations.CreateModel(
            name='Pending',
            fields=[
                ('pk', models.CompositePrimaryKey('source', 'fact_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('source', models.PositiveSmallIntegerField()),
                ('fact_id', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='SealSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.PositiveSmallIntegerField()),
                ('first_id', models.BigIntegerField()),
                ('last_id', models.BigIntegerField()),
                ('seal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='spans', to='evidence.seal')),
            ],
            options={
                'indexes': [models.Index(fields=['source', 'last_id'], name='sealspan_by_last_id')],
            },
        ),
        migrations.RunPython(queue_and_spans, seal_column_back),
    ]
