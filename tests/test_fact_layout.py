"""The fact row without padding (records 0010): `kind` and `source` kept as numbers and read as
words, PostgreSQL's columns ordered by alignment. The upgrade keeps every fact, its id, the running
sums, the identity's next value and the leaves of sealed facts; a word or number without its
counterpart is refused, never stored."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from learntrace.evidence import services as evidence
from learntrace.records.models import CreditedTime, Source
from learntrace.records.services import record_credited_time
from test_credited_hours import stored_sums, summed_facts

BEFORE = [("records", "0009_credited_hours")]


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, 10, tzinfo=dt.UTC)


def migrate_to(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets).apps if targets else None


def facts() -> list[tuple]:
    return list(CreditedTime.objects.order_by("pk").values_list("pk", "employee_id", "kind", "source", "seconds",
                                                                "occurred_at"))


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_keeps_facts_ids_sums_and_the_leaves_of_sealed_facts(org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=600, occurred_at=at(9))
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=1200, occurred_at=at(10),
                         source=Source.CHECKIN)
    assert len(evidence.seal_pending()) == 1
    kept = facts()

    old = migrate_to(BEFORE).get_model("records", "CreditedTime")
    assert list(old.objects.order_by("pk").values_list("kind", "source")) == \
        [("video", "tracking"), ("offline", "checkin")]  # words again in columns of words
    written = old.objects.create(employee_id=org.outsider.pk, course_id=catalog.clinical_video.pk, kind="document",
                                 category_id=catalog.clinical.pk, seconds=60, occurred_at=at(11), source="imported",
                                 details={"key": "row 7"})
    if connection.vendor == "postgresql":  # what an administrator may have added to the table
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE records_creditedtime SET (autovacuum_vacuum_scale_factor = 0.01)")
            cursor.execute("CREATE INDEX facts_of_a_course ON records_creditedtime (course_id)")
    migrate_to()

    assert facts() == [*kept, (written.pk, org.outsider.pk, "document", "imported", 60, at(11))]
    assert CreditedTime.objects.get(pk=written.pk).details == {"key": "row 7"}
    assert stored_sums() == summed_facts() and len(stored_sums()) == 3
    assert evidence.verify().ok  # the sealed facts hash as they did
    assert len(evidence.seal_pending()) == 1 and evidence.verify().ok  # and the one written meanwhile seals
    newer = record_credited_time(employee=org.learner, course=catalog.video, seconds=15, occurred_at=at(12))
    assert newer.pk > written.pk  # the identity goes on from where it was
    assert stored_sums() == summed_facts()
    assert CreditedTime.objects.filter(kind="offline", source=Source.CHECKIN).count() == 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'records_creditedtime'::regclass "
                           "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
            assert [row[0] for row in cursor.fetchall()] == [
                "id", "employee_id", "course_id", "category_id", "occurred_at", "recorded_at", "attempt_id",
                "seconds", "seq", "kind", "source", "details", "beat"]
            constraints = connection.introspection.get_constraints(cursor, "records_creditedtime")
        assert {name for name, c in constraints.items() if c["primary_key"]} == {"records_creditedtime_pkey"}
        assert sorted(c["foreign_key"][0] for c in constraints.values() if c["foreign_key"]) == \
            ["catalog_category", "catalog_course", "org_employee"]
        assert sorted(c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]) == \
            [["course_id"], ["employee_id", "occurred_at"]]
        assert {"kind_has_a_word", "source_has_a_word", "details_in_one_form", "facts_of_a_course"} <= \
            set(constraints)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'records_creditedtime'")
            assert cursor.fetchone()[0] == ["autovacuum_vacuum_scale_factor=0.01"]
            cursor.execute("DROP INDEX facts_of_a_course")  # the other tests' table as the migrations build it
            cursor.execute("ALTER TABLE records_creditedtime RESET (autovacuum_vacuum_scale_factor)")


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_refuses_a_word_without_a_number_and_changes_nothing(org, catalog):
    old = migrate_to(BEFORE).get_model("records", "CreditedTime")
    strange = old.objects.create(employee_id=org.learner.pk, course_id=catalog.video.pk, kind="podcast",
                                 category_id=catalog.management.pk, seconds=0, occurred_at=at(9), source="tracking")
    with pytest.raises(ValueError, match="kind has values without a number.*podcast"):
        migrate_to()
    assert old.objects.get(pk=strange.pk).kind == "podcast"
    old.objects.filter(pk=strange.pk).delete()
    migrate_to()


def test_a_word_or_number_without_its_counterpart_is_not_written(org, catalog):
    fact = dict(employee=org.learner, course=catalog.video, category=catalog.management, seconds=15,
                occurred_at=at(9))
    with pytest.raises(ValueError, match="kind: 'podcast' has no number"), transaction.atomic():
        CreditedTime.objects.create(**fact, kind="podcast", source=Source.TRACKING)
    with pytest.raises(ValueError, match="source: 'scanner' has no number"), transaction.atomic():
        CreditedTime.objects.create(**fact, kind="video", source="scanner")
    with pytest.raises(ValueError, match="kind: 7 has no number"):
        CreditedTime.objects.filter(kind=7).exists()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, "
                       "occurred_at, source, recorded_at) VALUES (%s, %s, 9, %s, 15, %s, 1, %s)",
                       [org.learner.pk, catalog.video.pk, catalog.management.pk, at(9), at(9)])
    assert not CreditedTime.objects.exists()
    written = CreditedTime.objects.create(**fact, kind="video", source=Source.TRACKING)
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, source FROM records_creditedtime WHERE id = %s", [written.pk])
        assert cursor.fetchone() == (1, 1)  # two numbers in the row
    assert CreditedTime.objects.values_list("kind", "source").get() == ("video", "tracking")
