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
from learntrace.checkin.models import Meeting
from learntrace.evidence import services
from learntrace.evidence.models import Seal
from learntrace.records.models import Completion, CreditedTime
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
    assert not CreditedTime.objects.filter(seal__isnull=True).exists()
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
    seal = services.seal_pending()[0]
    forged = CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind="video",
                                         category=catalog.management, seconds=3600, occurred_at=T0,
                                         source="tracking", seal=seal)
    assert problems(services.verify()) == {("inserted", "creditedtime", forged.pk)}


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
    assert not CreditedTime.objects.filter(seal__isnull=True).exists()
    assert sum(Seal.objects.values_list("fact_count", flat=True)) == 100
    assert services.verify().ok


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
    response = client_for(org.learner).get(reverse("records:my_bundle"))
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
    assert client_for(org.outsider).get(reverse("records:bundle", args=[org.learner.pk])).status_code == 404
    assert client_for(org.head).get(reverse("records:bundle", args=[org.learner.pk])).status_code == 200
    bad = client_for(org.learner).get(reverse("records:my_bundle"), {"from": "yesterday"})
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
