"""Tamper-evident evidence: seals over the facts, and verification that finds any change."""

import datetime as dt
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from learntrace.checkin import services as checkin
from learntrace.checkin.models import CheckInEvent, Meeting
from learntrace.evidence import services
from learntrace.evidence.models import Pending, Seal
from learntrace.records.codes import KIND_CODES, SOURCE_CODES
from learntrace.records.models import Completion, CreditedTime, OutsideCredit
from learntrace.records.services import record_completion, record_credited_time

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def facts(org, catalog):
    for minutes in range(6):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60,
                             occurred_at=T0 + dt.timedelta(minutes=minutes))
    record_completion(employee=org.head, course=catalog.clinical_video, completed_at=T0, source="manual")
    meeting = Meeting.objects.create(course=catalog.meeting, title="M", starts_at=T0,
                                     ends_at=T0 + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
    checkin.scan(meeting=meeting, employee=org.outsider, mode=checkin.IN, scanned_at=T0, via="scan",
                 device_id="p", now=T0)
    return list(CreditedTime.objects.order_by("id"))


def problems(report):
    return {(p.kind, p.source, p.fact_id) for p in report.problems}


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_sealing_covers_every_fact_once_and_verifies(facts):
    seals = services.seal_pending(batch_size=4)
    total = CreditedTime.objects.count() + Completion.objects.count() + 1  # + the check-in event
    assert sum(s.fact_count for s in seals) == total
    assert len(seals) == -(-total // 4)
    assert not Pending.objects.exists()
    listed = sorted((code, fact_id) for seal in seals for code, fact_id, _leaf in services.entries_of(seal))
    assert listed == sorted({*((1, i) for i in CreditedTime.objects.values_list("id", flat=True)),
                             *((2, i) for i in Completion.objects.values_list("id", flat=True)),
                             (4, CheckInEvent.objects.get().pk)})
    assert services.seal_pending() == []
    report = services.verify()
    assert report.ok and report.seals == len(seals) and report.facts == total


def test_a_changed_field_is_found_and_located(facts):
    services.seal_pending()
    sql("UPDATE records_creditedtime SET seconds = seconds + 600 WHERE id = %s", [facts[2].pk])
    assert problems(services.verify()) == {("modified", "creditedtime", facts[2].pk)}


def test_a_deleted_fact_is_found(facts):
    services.seal_pending()
    sql("DELETE FROM records_creditedtime WHERE id = %s", [facts[1].pk])
    assert problems(services.verify()) == {("removed", "creditedtime", facts[1].pk)}


def test_an_inserted_fact_is_found(facts, org, catalog):
    services.seal_pending()
    forged = CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind="video",
                                         category=catalog.management, seconds=3600, occurred_at=T0,
                                         source="tracking")
    assert services.verify().ok and services.unsealed_count() == 1  # queued: the next seal takes it
    Pending.objects.filter(source=1, fact_id=forged.pk).delete()  # written around the queue
    assert problems(services.verify()) == {("inserted", "creditedtime", forged.pk)}


def test_every_way_of_writing_a_fact_queues_it_and_a_rollback_queues_nothing(facts, org, catalog):
    from django.db import transaction

    queued = set(Pending.objects.values_list("source", "fact_id"))
    assert queued == ({(1, f.pk) for f in facts} | {(2, pk) for pk in Completion.objects.values_list("id", flat=True)}
                      | {(4, CheckInEvent.objects.get().pk)})
    services.seal_pending()
    made = CreditedTime.objects.bulk_create([CreditedTime(employee=org.learner, course=catalog.video, kind="video",
                                                          category=catalog.management, seconds=1, occurred_at=T0,
                                                          source="manual") for _ in range(3)])
    _insert_credited_time(facts[0])
    with pytest.raises(RuntimeError), transaction.atomic():
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
        raise RuntimeError("rolled back")
    newest = CreditedTime.objects.order_by("-id").first().pk
    assert set(Pending.objects.values_list("fact_id", flat=True)) == {*(f.pk for f in made), newest}
    assert sum(s.fact_count for s in services.seal_pending()) == 4 and services.verify().ok


def test_sealing_writes_nothing_to_the_fact_rows(facts):
    """A fact row is written once: the seal records the ids it covers, the rows keep their version."""
    if connection.vendor != "postgresql":
        pytest.skip("row versions (xmin) are PostgreSQL's")

    def versions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, xmin::text FROM records_creditedtime ORDER BY id")
            return cursor.fetchall()

    before = versions()
    assert services.seal_pending() and versions() == before


def test_reordering_facts_is_found(facts):
    services.seal_pending()
    a, b = facts[0].pk, facts[1].pk
    sql("UPDATE records_creditedtime SET occurred_at = %s WHERE id = %s",
        [facts[1].occurred_at, a])
    sql("UPDATE records_creditedtime SET occurred_at = %s WHERE id = %s",
        [facts[0].occurred_at, b])
    assert problems(services.verify()) == {("modified", "creditedtime", a), ("modified", "creditedtime", b)}


def test_a_replaced_seal_is_found(facts):
    services.seal_pending(batch_size=3)
    sql("UPDATE evidence_seal SET root = %s WHERE number = 2", ["ab" * 32])
    kinds = {p.kind for p in services.verify().problems if p.seal == 2}
    assert {"seal_changed", "leaves_changed"} <= kinds


def test_a_broken_chain_is_found(facts):
    services.seal_pending(batch_size=3)
    sql("UPDATE evidence_seal SET previous_hash = %s WHERE number = 3", ["0" * 64])
    found = {(p.kind, p.seal) for p in services.verify().problems}
    assert ("broken_chain", 3) in found


def test_another_key_does_not_verify(facts):
    services.seal_pending()
    other = Ed25519PrivateKey.generate().public_key()
    kinds = {p.kind for p in services.verify(public=other).problems}
    assert kinds == {"bad_signature", "other_key"}


def test_one_fact_verifies_with_its_inclusion_proof(facts):
    services.seal_pending(batch_size=5)
    assert services.verify_fact(1, facts[3].pk)
    sql("UPDATE records_creditedtime SET seconds = 1 WHERE id = %s", [facts[3].pk])
    assert not services.verify_fact(1, facts[3].pk)
    assert services.verify_fact(1, facts[4].pk)


def test_the_verify_command_exits_non_zero_on_tampering(facts, capsys):
    call_command("verify", "--seal-first")
    assert "intact" in capsys.readouterr().out
    sql("UPDATE records_completion SET credits = 99")
    with pytest.raises(SystemExit) as exit_status:
        call_command("verify")
    assert exit_status.value.code == 1
    assert "modified" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_facts_written_while_sealing_are_all_sealed_exactly_once(org, catalog):
    errors = []

    def writer(n):
        try:
            for i in range(25):
                record_credited_time(employee=org.learner, course=catalog.video, seconds=1,
                                     occurred_at=T0 + dt.timedelta(seconds=n * 100 + i))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        services.seal_pending(batch_size=7)
        time.sleep(0.02)  # a sealer that never lets go would starve SQLite's writers (it runs every 5 minutes)
    for thread in threads:
        thread.join()
    services.seal_pending(batch_size=7)
    assert errors == []
    assert CreditedTime.objects.count() == 100
    assert not Pending.objects.exists()
    listed = [fact_id for seal in Seal.objects.all() for _code, fact_id, _leaf in services.entries_of(seal)]
    assert sorted(listed) == sorted(CreditedTime.objects.values_list("id", flat=True))  # each once
    assert sum(Seal.objects.values_list("fact_count", flat=True)) == 100
    assert services.verify().ok


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_queues_the_unsealed_facts_and_seals_made_before_still_verify(org, catalog, monkeypatch):
    """Facts sealed when each row carried its seal, and one not sealed yet, through the migration
    that moves sealing off the rows."""
    for minutes in range(3):  # written first: the model has the columns of the newest migrations
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60,
                             occurred_at=T0 + dt.timedelta(minutes=minutes))
    ids = sorted(CreditedTime.objects.values_list("id", flat=True))
    sealed, waiting = ids[:-1], ids[-1]
    # Their leaves in encoding 2 (the same bytes from the words of then as from the numbers of now).
    entries = [(1, fact_id, leaf) for fact_id, leaf in services._leaves_of(1, sealed, 2)]
    call_command("migrate", "evidence", "0003_verification_unsealed", verbosity=0)
    with monkeypatch.context() as patch:
        patch.setattr(services, "ENCODING", 2)  # the encoding of that time
        seal = services.signed_seal(entries=entries, now=dt.datetime.now(dt.UTC), drained=True, save=False)
    columns = ["number", "created_at", "fact_count", "root", "previous_hash", "seal_hash", "signature", "key_id",
               "leaves", "encoding", "drained"]  # the table of then: no column the model added later
    sql(f"INSERT INTO evidence_seal ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        [getattr(seal, name) for name in columns])
    seal.pk = Seal.objects.values_list("pk", flat=True).get(number=seal.number)
    sql(f"UPDATE records_creditedtime SET seal_id = %s WHERE id IN ({', '.join(['%s'] * len(sealed))})",
        [seal.pk, *sealed])
    call_command("migrate", verbosity=0)

    assert set(Pending.objects.values_list("source", "fact_id")) == {(1, waiting)}
    assert services.seal_of(1, sealed[0]) == seal and services.seal_of(1, waiting) is None
    assert services.verify_fact(1, sealed[-1]) and services.verify().ok
    assert services.seal_pending()[0].fact_count == 1 and services.verify().ok
    record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
    assert services.unsealed_count() == 1  # queued: migrate installed the triggers again


def test_the_evidence_page_is_for_auditors_and_admins(org, client_for, facts):
    services.seal_pending()
    assert client_for(org.learner).get(reverse("evidence:overview")).status_code == 403
    assert client_for(org.head).get(reverse("evidence:overview")).status_code == 403
    client = client_for(org.auditor)
    client.post(reverse("evidence:verify"))  # runs at once in the tests
    page = client.get(reverse("evidence:overview")).text
    assert "intact" in page
    key = client.get(reverse("evidence:public_key"))
    assert key.content.startswith(b"-----BEGIN PUBLIC KEY-----")


def test_the_evidence_bundle_verifies_offline_and_fails_on_one_changed_byte(org, client_for, facts, tmp_path):
    import json
    import os
    import subprocess
    import sys

    from learntrace.evidence import keys
    from learntrace.evidence.offline import verify_bundle

    services.seal_pending(batch_size=3)
    response = client_for(org.learner).get(reverse("trainingfile:my_bundle"))
    bundle = json.loads(response.content)
    assert len(bundle["facts"]) == CreditedTime.objects.filter(employee=org.learner).count()
    assert verify_bundle(bundle, keys.public_pem()) == []
    # A machine with no database and no Django settings: only Python and the bundle.
    path, key = tmp_path / "bundle.json", tmp_path / "key.pem"
    path.write_bytes(response.content)
    key.write_bytes(keys.public_pem())
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    clean = subprocess.run([sys.executable, "-m", "learntrace.evidence.offline", str(path), "--public-key", str(key)],
                           env=env, capture_output=True, text=True, cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    tampered = response.content.replace(b'"seconds": "60"', b'"seconds": "61"', 1)
    assert tampered != response.content
    path.write_bytes(tampered)
    changed = subprocess.run([sys.executable, "-m", "learntrace.evidence.offline", str(path), "--public-key",
                              str(key)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert changed.returncode == 1 and "not included" in changed.stdout
    signature = bundle["seals"][0]["signature"]
    bundle["seals"][0]["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert any("signature" in p for p in verify_bundle(bundle, keys.public_pem()))


def test_the_bundle_follows_the_role_boundaries_and_checks_dates(org, client_for, facts):
    assert client_for(org.outsider).get(reverse("trainingfile:bundle", args=[org.learner.pk])).status_code == 404
    assert client_for(org.head).get(reverse("trainingfile:bundle", args=[org.learner.pk])).status_code == 200
    bad = client_for(org.learner).get(reverse("trainingfile:my_bundle"), {"from": "yesterday"})
    assert bad.status_code == 400 and "error" in bad.json()


@pytest.mark.django_db(transaction=True)
def test_parallel_verification_finds_the_same(facts, tmp_path):
    """`learntrace verify --workers 2` in its own process, as an auditor runs it (processes see
    only committed facts: this test commits)."""
    import os
    import subprocess
    import sys

    from test_worker import database_url

    services.seal_pending(batch_size=2)
    sql("UPDATE records_creditedtime SET seconds = 7 WHERE id = %s", [facts[5].pk])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url()}
    outputs = []
    for workers in ("1", "2"):
        run = subprocess.run([sys.executable, "-m", "learntrace", "verify", "--workers", workers], env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1, run.stdout + run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert f"modified: seal 3 creditedtime #{facts[5].pk}" in outputs[1]


AWKWARD = ["学习时长 🎓", 'a "quote" and a \\ backslash', "line\nbreak\ttab\x01\x1f\x7f\u2028", "", "null"]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def awkward_facts(org, catalog):
    """One fact or more of every source, with the values that encodings get wrong."""
    from decimal import Decimal
    from uuid import UUID

    from django.db.models import JSONField, Value

    from learntrace.catalog.models import Quiz
    from learntrace.checkin.models import CheckInEvent
    from learntrace.plans import services as plans
    from learntrace.plans.models import Assignment, ReflectionEvent
    from learntrace.records.models import Correction, QuizAttempt
    from test_plans import hospital_plan

    moment = dt.datetime(2026, 3, 10, 17, 5, 9, 123456, tzinfo=SHANGHAI)
    details = {"segments": [[0, 15000], [15000, 30000]], "rate": 1.25, "tiny": 1e-05, "big": 1e16, "zero": -0.0,
               "tenth": 0.1, "hundred": 100.0, "huge": 2 ** 70, "中文键": "值", "none": None, "yes": True,
               "nested": {"z": [], "y": {}, "é": AWKWARD[2]}, "": AWKWARD[1], "bb": 1.5e-7, "b": 123456789.123}
    json_null = Value(None, JSONField())  # JSON's null, not SQL's NULL
    for index, value in enumerate([details, {}, [], "just text", json_null, [1, "二", {"k": False}]]):
        CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind="video",
                                    category=catalog.management, seconds=index, occurred_at=moment.replace(
                                        microsecond=index * 7), source="tracking", details=value,
                                    attempt_id=UUID(int=index) if index % 2 else None, seq=index or None)
    from learntrace.records import beat_details

    for index, rate in enumerate([1.25, 1 / 3]):  # beats in compact bytes; 1/3 is kept as a raw double
        details = {"segments": [[0, 15000]], "reading_ms": 0, "rate": rate, "hidden": False, "elapsed_ms": 15000,
                   "received_at": moment.astimezone(dt.UTC).isoformat(), "played_ms": 15000, "credited_ms": 15000,
                   "cut_ms": 0, "flags": ["idle"] * index, "active": True, "held_ms": 0, "attention_cut_ms": 7}
        CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind="video",
                                    category=catalog.management, seconds=15, occurred_at=moment, source="tracking",
                                    details=None, beat=beat_details.compact(details, moment + dt.timedelta(hours=1)),
                                    attempt_id=UUID(int=100), seq=index)
    for course, credits in zip([catalog.video, catalog.meeting, catalog.clinical_video],
                               (Decimal("0.05"), Decimal("1234.50"), Decimal("0")), strict=True):
        Completion.objects.create(employee=org.head, course=course, completed_at=moment, credits=credits,
                                  credit_class=catalog.cme1 if credits else None, category=catalog.management,
                                  source="manual")
    quiz = Quiz.objects.create(course=catalog.video)
    QuizAttempt.objects.create(employee=org.head, quiz=quiz, number=1, answers={"12": [3, 1], "7": []}, score=50,
                               passed=False, submitted_at=moment)
    meeting = Meeting.objects.create(course=catalog.meeting, title="M", starts_at=T0,
                                     ends_at=T0 + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
    for index, (ip, latitude, longitude) in enumerate([("10.0.0.1", 31.2304, 121.4737), ("2001:db8::1", -0.0, 1e-05),
                                                        (None, 1e15 + 0.25, 123456789012345.6), (None, None, None),
                                                        ("::ffff:1.2.3.4", 5e-324, -1.7976931348623157e308)]):
        CheckInEvent.objects.create(meeting=meeting, employee=org.outsider if index else None, kind="manual",
                                    at=moment, scanned_at=moment if index % 2 else None,
                                    reason=AWKWARD[index], note=AWKWARD[-index], device_id=AWKWARD[index - 1],
                                    ip=ip, latitude=latitude, longitude=longitude,
                                    actor=org.admin.user if index % 2 else None)
    plan = hospital_plan(org, catalog, requires_reflection=True, reflection_min_chars=2)
    plans.publish_plan(actor=None, plan=plan, now=dt.datetime(2026, 3, 10, tzinfo=SHANGHAI))
    assignment = Assignment.objects.get(period__starts_at=dt.datetime(2026, 3, 1, tzinfo=SHANGHAI), employee=org.head)
    reflection = plans.reflection_save(assignment=assignment, text=AWKWARD[0], submit=True)
    ReflectionEvent.objects.create(reflection=reflection, employee=org.head, kind="returned", text_sha256="0" * 64,
                                   comment=AWKWARD[2], actor=org.admin.user, at=moment)
    video_fact = CreditedTime.objects.order_by("id").first()
    Correction.objects.create(employee=org.learner, course=catalog.video, corrects="creditedtime",
                              corrects_id=video_fact.pk, seconds_delta=-2147483648, voids=True, occurred_at=moment,
                              reason=AWKWARD[1], actor=org.admin.user)
    for index, (credits, seconds) in enumerate([(Decimal("0.05"), 0), (Decimal("1234.50"), 2147483647)]):
        OutsideCredit.objects.create(
            employee=org.learner, kind="conference", title=AWKWARD[index], project_number=AWKWARD[-index - 1],
            started_on=dt.date(1999, 12, 31), ended_on=dt.date(2026, 1, 1), credited_at=moment, credits=credits,
            seconds=seconds, credit_class=catalog.cme1 if index else None, category=catalog.clinical,
            certificate_sha256="f" * 64, declaration_id=index or None, actor=org.admin.user if index else None)
    # An exam result with its answers, and the certificate it earned (one valid for ever, one that expires).
    from exam_fixtures import all_right, make_exam_centre
    from learntrace.certificates import services as certificates
    from learntrace.certificates.models import CertificateKind
    from learntrace.exams import services as exams

    centre = make_exam_centre(catalog.management)
    result = exams.submit(sitting=exams.start(exam=centre.exam, employee=org.learner, now=moment),
                          answers=all_right(centre), now=moment)
    for months in (None, 36):
        kind = CertificateKind.objects.create(title=AWKWARD[0], exam=centre.exam, valid_months=months)
        issued = certificates.issue(kind=kind, employee_id=org.learner.pk, issued_at=moment, exam_result=result)
    # The second one revoked, with an awkward reason (source 10).
    certificates.revoke(actor=org.admin.user, certificate=issued, reason=AWKWARD[1], now=moment)


@pytest.mark.parametrize("encoding", [2, 3])
def test_postgresql_builds_each_fact_byte_for_byte_as_python_does(awkward_facts, encoding):
    """Encodings 2 and 3 are made by SQL on PostgreSQL and by Python elsewhere (and offline): the same bytes."""
    from learntrace.evidence import merkle
    from learntrace.evidence.canonical import fact_texts_bytes
    from learntrace.evidence.sources import SOURCES, model, rows, texts

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no SQL encoder: Python builds the encoding there")
    for code in SOURCES:
        in_python = {row["id"]: texts(code, row, encoding) for row in rows(code)}
        assert in_python, f"no fact of source {code}"
        in_sql = services.fact_texts(code, list(in_python), encoding)
        for fact_id in in_python:
            assert in_sql[fact_id] == in_python[fact_id], (in_sql[fact_id], in_python[fact_id])
        leaves = dict(services._leaves(code, "id = ANY(%s)", [list(in_python)], encoding=encoding))
        assert leaves == {i: merkle.leaf_hash(fact_texts_bytes(t)) for i, t in in_python.items()}
        assert model(code).objects.count() == len(leaves)
    compact = [texts(1, row, encoding) for row in rows(1, CreditedTime.objects.filter(beat__isnull=False))]
    assert len(compact) == 2 and {len(t) for t in compact} == {13 if encoding == 2 else 14}
    if encoding == 3:  # the beat's bytes, as hex; its JSON details null
        assert [t[12:] for t in compact] == [
            ["null", "010c0200b0ea0100c413b0ea0180909de91ab0ea01b0ea0100000e"],
            ["null", "01ac200200b0ea01003fd5555555555555b0ea0180909de91ab0ea01b0ea0100000e"]]


def test_float_and_json_texts_are_postgresqls(db):
    import json

    from learntrace.evidence.canonical import float_text, json_text

    floats = [0.0, -0.0, 1.0, 100.0, 0.1, 1e-4, 1e-05, -2.5e-05, 123.456, 1e14, 1e15, 1.5e15, 123456789012345.6,
              1e16, 1e22, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan")]
    values = [{"b": 1, "aa": [1.0, 2.50, 1e-7], "": None, "é": "\u2028", "z": {"x": True, "yy": False}},
              [1e16, -0.0, 0.1, 2 ** 70, "a\"b\\c\n\x01"], "text", 3, None, {}, []]
    if connection.vendor != "postgresql":
        assert [float_text(x) for x in floats[:6]] == ["0", "-0", "1", "100", "0.1", "0.0001"]
        assert json_text(values[0]) == ('{"": null, "b": 1, "z": {"x": true, "yy": false}, '
                                        '"aa": [1.0, 2.5, 0.0000001], "é": "\u2028"}')
        return
    with connection.cursor() as cursor:
        cursor.execute("SET extra_float_digits = 1")
        cursor.execute("SELECT x::text FROM unnest(%s::float8[]) WITH ORDINALITY AS f(x, n) ORDER BY n", [floats])
        assert [row[0] for row in cursor.fetchall()] == [float_text(x) for x in floats]
        for value in values:  # as Django writes a JSONField: json.dumps, read back by PostgreSQL
            cursor.execute("SELECT %s::jsonb::text", [json.dumps(value)])
            assert cursor.fetchone()[0] == json_text(value)


def test_awkward_facts_are_sealed_verified_and_verified_offline(org, awkward_facts):
    import json

    from learntrace.evidence import keys
    from learntrace.evidence.bundle import make_bundle
    from learntrace.evidence.offline import verify_bundle

    services.seal_pending(batch_size=5)
    assert services.verify().ok
    start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    for person in (org.learner, org.head, org.outsider):
        bundle = json.loads(json.dumps(make_bundle(person, start=start, end=end)))
        assert bundle["facts"] and verify_bundle(bundle, keys.public_pem()) == []


def test_seals_of_the_first_encoding_still_verify(facts, monkeypatch, org, catalog):
    import json

    from learntrace.evidence import keys
    from learntrace.evidence.bundle import make_bundle
    from learntrace.evidence.offline import verify_bundle

    with monkeypatch.context() as patch:
        patch.setattr(services, "ENCODING", 1)
        old = services.seal_pending(batch_size=4)
    record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
    new = services.seal_pending()
    assert {s.encoding for s in old} == {1} and [s.encoding for s in new] == [3]
    assert services.verify().ok
    bundle = json.loads(json.dumps(make_bundle(org.learner, start=T0, end=T0 + dt.timedelta(days=1))))
    assert {item["seal"] for item in bundle["facts"]} >= {old[0].number, new[0].number}
    assert verify_bundle(bundle, keys.public_pem()) == []
    sql("UPDATE records_creditedtime SET seconds = 1 WHERE id IN (%s, %s)", [facts[0].pk, facts[-1].pk])
    new_fact = CreditedTime.objects.get(pk=services.entries_of(new[0])[0][1])
    sql("UPDATE records_creditedtime SET seconds = 1 WHERE id = %s", [new_fact.pk])
    found = problems(services.verify())
    assert found == {("modified", "creditedtime", facts[0].pk), ("modified", "creditedtime", facts[-1].pk),
                     ("modified", "creditedtime", new_fact.pk)}
    # the encoding is in the signed header of a seal from encoding 2 on: changing it is seen
    sql("UPDATE evidence_seal SET encoding = 1 WHERE id = %s", [new[0].pk])
    assert ("seal_changed", "", None) in problems(services.verify())


def test_parallel_verification_inside_a_transaction_checks_on_its_own_connection(facts):
    """Other connections cannot see what this (test) transaction wrote: verification stays on it,
    and the transaction is left intact."""
    services.seal_pending(batch_size=2)
    sql("UPDATE records_creditedtime SET seconds = 7 WHERE id = %s", [facts[1].pk])
    assert problems(services.verify(workers=2)) == {("modified", "creditedtime", facts[1].pk)}
    assert CreditedTime.objects.filter(pk=facts[1].pk, seconds=7).exists()


def _insert_credited_time(like, **values):
    """A credited-time row written with direct SQL, as someone with database access would."""
    row = {"employee_id": like.employee_id, "course_id": like.course_id, "kind": KIND_CODES[like.kind],
           "category_id": like.category_id, "seconds": 3600, "occurred_at": like.occurred_at,
           "source": SOURCE_CODES["manual"],
           "recorded_at": dt.datetime.now(dt.UTC), "details": "{}"}
    row.update(values)
    row = {name: connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v
           for name, v in row.items()}
    sql(f"INSERT INTO records_creditedtime ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
        list(row.values()))


def test_the_unsealed_tail_reports_facts_slipped_in_below_sealed_ids(facts, org, catalog):
    now = dt.datetime.now(dt.UTC)
    gap = facts[2].pk
    sql("DELETE FROM records_creditedtime WHERE id = %s", [gap])  # unsealed yet: an id left free
    services.seal_pending(now=now - dt.timedelta(hours=1))
    _insert_credited_time(facts[0], id=gap)
    # a late commit: not sealed by the seal that passed its id, but no seal made since
    assert services.verify().ok
    sql("DELETE FROM records_creditedtime WHERE id = %s", [gap])
    record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
    services.seal_pending(now=now)  # took every fact committed: one below its ids now was not there
    _insert_credited_time(facts[0], id=gap)
    report = services.verify()
    assert problems(report) == {("slipped_in", "creditedtime", gap)}
    assert not report.ok and str(report.problems[0]).startswith(f"slipped_in: creditedtime #{gap} not sealed")


def test_the_unsealed_tail_reports_facts_recorded_before_a_seal_that_took_all(facts):
    now = dt.datetime.now(dt.UTC)
    services.seal_pending(now=now)
    _insert_credited_time(facts[0], recorded_at=now - dt.timedelta(minutes=5))  # could be a late commit
    assert services.verify().ok
    _insert_credited_time(facts[0], recorded_at=now - dt.timedelta(hours=2))
    backdated = CreditedTime.objects.order_by("-id").first()
    assert problems(services.verify()) == {("backdated", "creditedtime", backdated.pk)}
    assert services.unsealed_count() == 2
    services.seal_pending()  # sealed now: part of the evidence from here on, no longer the tail
    assert services.verify().ok


# ---------------------------------------------------------------- the auditor's key, never the bundle's


@pytest.fixture
def bundle_file(org, client_for, facts, tmp_path):
    services.seal_pending()
    path = tmp_path / "bundle.json"
    path.write_bytes(client_for(org.learner).get(reverse("trainingfile:my_bundle")).content)
    return path


def test_the_offline_verifier_refuses_a_missing_empty_or_malformed_key(bundle_file, tmp_path, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    from learntrace.evidence import keys, offline

    with pytest.raises(SystemExit) as missing:
        offline.main([str(bundle_file)])
    assert missing.value.code == 2 and "--public-key" in capsys.readouterr().err
    ec_pem = generate_private_key(SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    cases = {"empty.pem": (b"", "it is empty"), "blank.pem": (b"\n  \n", "it is empty"),
             "garbage.pem": (b"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n",
                             "it is not a PEM public key"),
             "ec.pem": (ec_pem, "it is not an Ed25519 public key")}
    for name, (content, reason) in cases.items():
        key = tmp_path / name
        key.write_bytes(content)
        assert offline.main([str(bundle_file), "--public-key", str(key)]) == 2
        assert capsys.readouterr().out == f"cannot use the public key {key}: {reason}\n"
    absent = tmp_path / "absent.pem"
    assert offline.main([str(bundle_file), "--public-key", str(absent)]) == 2
    assert capsys.readouterr().out == f"cannot use the public key {absent}: No such file or directory\n"
    for content in (b"", None):
        with pytest.raises(offline.PublicKeyError):
            offline.verify_bundle({"format": "learntrace-evidence-bundle/2", "seals": [], "facts": []}, content)
    right = tmp_path / "right.pem"
    right.write_bytes(keys.public_pem())
    assert offline.main([str(bundle_file), "--public-key", str(right)]) == 0
    assert capsys.readouterr().out.endswith(": verified\n")


def test_the_offline_verifier_says_what_the_bundle_left_unsealed(org, client_for, facts, tmp_path, capsys):
    from learntrace.evidence import keys, offline

    services.seal_pending()
    record_credited_time(employee=org.learner, course=facts[0].course, seconds=60, occurred_at=T0)
    path, key = tmp_path / "bundle.json", tmp_path / "key.pem"
    path.write_bytes(client_for(org.learner).get(reverse("trainingfile:my_bundle")).content)
    key.write_bytes(keys.public_pem())
    assert offline.main([str(path), "--public-key", str(key)]) == 0
    sealed = CreditedTime.objects.filter(employee=org.learner).exclude(
        id__in=Pending.objects.filter(source=1).values("fact_id")).count()
    assert sealed == 6
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"{sealed} facts in 1 seals: verified",
        "1 facts were not sealed yet when the bundle was made: they are not in it and not verified"]


def test_the_offline_verifier_fails_with_another_key_than_the_bundles_own(bundle_file, tmp_path, capsys):
    from learntrace.evidence import keys, offline

    other = tmp_path / "other.pem"
    other.write_bytes(keys.public_pem(Ed25519PrivateKey.generate().public_key()))
    assert offline.main([str(bundle_file), "--public-key", str(other)]) == 1
    out = capsys.readouterr().out
    seals = Seal.objects.count()
    assert "the bundle names another signing key than the one given" in out
    assert out.count("signed with another key than the one given") == seals
    assert out.count("the signature does not verify") == seals and "verified" not in out


def test_verify_bundle_needs_the_auditors_key(bundle_file, tmp_path, capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--public-key"):
        call_command("verify_bundle", str(bundle_file))
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(SystemExit) as refused:
        call_command("verify_bundle", str(bundle_file), "--public-key", str(empty))
    assert refused.value.code == 2
    assert capsys.readouterr().out == f"cannot use the public key {empty}: it is empty\n"


def test_the_public_key_is_public(client, db):
    from learntrace.evidence import keys

    for method in (client.get, client.head):
        response = method(reverse("evidence:public_key"))
        assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    response = client.get(reverse("evidence:public_key"))
    assert response.content == keys.public_pem() and response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert response["Content-Length"] == str(len(keys.public_pem()))
    assert client.post(reverse("evidence:public_key")).status_code == 405


# ---------------------------------------------------------------- facts not sealed yet


def test_verify_counts_the_facts_not_sealed_yet(org, facts, client_for, capsys):
    from learntrace.evidence.models import Verification

    waiting = services.unsealed_count()
    assert waiting == len(facts) + Completion.objects.count() + 1 == 10  # and the check-in event
    call_command("verify")
    assert capsys.readouterr().out == (
        f"0 seals, 0 facts: intact\n{waiting} facts are not sealed yet, so not covered by this verification; "
        f"the worker seals them within 5 minutes, `learntrace seal` seals them now.\n")
    assert Verification.objects.get().unsealed == waiting
    page = client_for(org.auditor).get(reverse("evidence:overview")).text
    assert f"{waiting} facts were not sealed yet, so not verified" in page
    assert f'<div class="stat" id="unsealed-facts">{waiting}</div>' in page
    chinese = client_for(org.auditor, "zh-hans").get(reverse("evidence:overview")).text
    assert f"{waiting} 条事实尚未封存,因此未经验证" in chinese

    call_command("verify", "--seal-first")
    assert capsys.readouterr().out == f"1 seals, {waiting} facts: intact\n"
    assert Verification.objects.first().unsealed == 0


def test_the_seal_command_seals_now_and_is_audited_like_the_worker(org, catalog, facts, capsys):
    from learntrace.core.models import AuditEntry
    from learntrace.evidence.tasks import seal_new_facts

    waiting = services.unsealed_count()
    call_command("seal")
    assert capsys.readouterr().out == f"Sealed {waiting} facts in seal #1.\n"
    assert services.unsealed_count() == 0 and services.verify().ok
    call_command("seal")
    assert capsys.readouterr().out == "Nothing to seal: every fact is sealed.\n"
    record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
    seal_new_facts.call_local()
    assert services.unsealed_count() == 0
    entries = list(AuditEntry.objects.filter(action="seal").order_by("id").values_list(
        "actor", "object_type", "object_id", "summary"))
    assert entries == [(None, "seal", "1", f"seal command: {waiting} facts in seal #1"),
                       (None, "seal", "2", "worker: 1 facts in seal #2")]
