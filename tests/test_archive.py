"""Archiving old beats: out of the database into a file that verifies offline, with a signed link in
the seal chain; verification accepts the absence of exactly those beats, and progress keeps their time."""

import datetime as dt
import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from learntrace.checkin import services as checkin
from learntrace.checkin.models import CheckInEvent, Meeting
from learntrace.evidence import keys, services
from learntrace.evidence.models import Seal
from learntrace.evidence.offline import verify_archive, verify_bundle
from learntrace.records import archive, effective
from learntrace.records.models import ArchivedHour, Completion, CreditedHour, CreditedTime
from learntrace.records.services import record_credited_time
from learntrace.trainingfile.selectors import training_file
from test_credited_hours import stored_sums, summed_facts

MARCH = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
MAY = dt.datetime(2026, 5, 12, 9, 0, tzinfo=dt.UTC)
SEALED_OLD, SEALED_NEW = dt.datetime(2026, 4, 1, tzinfo=dt.UTC), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CUT = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)


@pytest.fixture
def months(org, catalog):
    """March: seven beats of the learner (one over two hours), a manual credit and a meeting's check-in,
    sealed on 1 April; May: two beats, sealed on 1 June."""
    for minutes in (0, 1, 2, 3, 4, 5, 130):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60,
                             occurred_at=MARCH + dt.timedelta(minutes=minutes))
    record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=900, occurred_at=MARCH,
                         source="manual")
    meeting = Meeting.objects.create(course=catalog.meeting, title="M", starts_at=MARCH,
                                     ends_at=MARCH + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
    checkin.scan(meeting=meeting, employee=org.outsider, mode=checkin.IN, scanned_at=MARCH, via="scan",
                 device_id="p", now=MARCH)
    services.seal_pending(batch_size=4, now=SEALED_OLD)
    for minutes in (0, 1):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60,
                             occurred_at=MAY + dt.timedelta(minutes=minutes))
    services.seal_pending(batch_size=4, now=SEALED_NEW)
    return org


def beats(**filters):
    return set(CreditedTime.objects.filter(source="tracking", **filters).values_list("id", flat=True))


def sums():
    """Every credited second by person, hour, kind and category: the table's running sums and the archived ones."""
    total = defaultdict(int)
    for table in (CreditedHour, ArchivedHour):
        for employee_id, hour, kind, category_id, seconds in table.objects.values_list(
                "employee_id", "hour", "kind", "category_id", "seconds"):
            total[employee_id, hour, kind, category_id] += seconds
    return dict(total)


def learner_time(org):
    """What the learner's progress and training file read: a period's total and the years' totals."""
    period = effective.credited_time(employee_ids=[org.learner.pk], starts_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                                     ends_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)).seconds
    return period, training_file(org.learner).years


def read_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def test_old_beats_leave_for_a_file_that_verifies_and_everything_else_stays(months, tmp_path):
    org = months
    old_beats, new_beats = beats(occurred_at__lt=CUT), beats(occurred_at__gte=CUT)
    others = set(CreditedTime.objects.exclude(source="tracking").values_list("id", flat=True))
    assert len(old_beats) == 7 and len(new_beats) == 2 and len(others) == 2  # the manual and the meeting's credit
    before_sums, before_time, completions = sums(), learner_time(org), Completion.objects.count()
    path = tmp_path / "archive-2026-04.jsonl.gz"

    link = archive.archive(before=CUT, path=str(path), now=NOW)

    assert beats() == new_beats  # the old beats are gone, the new ones stay
    assert set(CreditedTime.objects.exclude(source="tracking").values_list("id", flat=True)) == others
    assert CheckInEvent.objects.count() == 1 and Completion.objects.count() == completions
    assert sums() == before_sums and learner_time(org) == before_time  # progress and the training file agree
    assert stored_sums() == summed_facts()  # the table's running sums count exactly the facts left in it
    assert ArchivedHour.objects.aggregate(total=Sum("seconds"))["total"] == 7 * 60
    old_seals = [s.number for s in Seal.objects.filter(created_at=SEALED_OLD)]
    assert link.archive == {
        "source": "creditedtime", "what": "beats", "before": "2026-05-01T00:00:00.000000Z",
        "first_seal": old_seals[0], "last_seal": old_seals[-1], "facts": 7, "kept": 2,
        "kept_sha256": hashlib.sha256(b"".join(i.to_bytes(8, "big") for i in sorted(others))).hexdigest(),
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert link.fact_count == 0 and link.archive_done and link.previous_hash == Seal.objects.get(
        number=link.number - 1).seal_hash
    report = services.verify()
    assert report.ok, report.problems
    assert report.archived == 7
    # The chain goes on after the link, and a person's bundle carries the link's header.
    record_credited_time(employee=org.learner, course=catalog_video(org), seconds=60, occurred_at=NOW)
    (after,) = services.seal_pending(now=NOW)
    assert after.previous_hash == link.seal_hash and services.verify().ok
    from learntrace.evidence.bundle import make_bundle
    bundle = make_bundle(org.learner, start=MARCH - dt.timedelta(days=30), end=NOW + dt.timedelta(days=1))
    assert verify_bundle(bundle, keys.public_pem()) == []
    assert any(seal.get("archive") == link.archive for seal in bundle["seals"])
    # The file, offline: every archived beat hashes to its seal's entry.
    problems, summary = verify_archive(read_lines(path), keys.public_pem())
    assert problems == [] and summary == {"first_seal": old_seals[0], "last_seal": old_seals[-1], "facts": 7,
                                          "kept": 2, "kept_sha256": link.archive["kept_sha256"]}


def catalog_video(org):
    return CreditedTime.objects.filter(employee=org.learner, source="tracking").first().course


def test_the_file_verifies_on_a_machine_without_the_database_and_fails_when_changed(months, tmp_path):
    path, key = tmp_path / "archive.jsonl.gz", tmp_path / "key.pem"
    archive.archive(before=CUT, path=str(path), now=NOW)
    key.write_bytes(keys.public_pem())
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}

    def offline():
        return subprocess.run([sys.executable, "-m", "learntrace.evidence.offline", str(path), "--public-key",
                               str(key)], env=env, capture_output=True, text=True, cwd=tmp_path)

    clean = offline()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "7 archived facts" in clean.stdout and hashlib.sha256(path.read_bytes()).hexdigest() in clean.stdout
    lines = read_lines(path)
    fact_lines = [i for i, line in enumerate(lines) if '"texts"' in line]
    changed = list(lines)
    changed[fact_lines[0]] = changed[fact_lines[0]].replace(',"60",', ',"61",', 1)
    assert changed != lines
    path.write_bytes(gzip.compress(("\n".join(changed) + "\n").encode()))
    result = offline()
    assert result.returncode == 1 and "does not hash to its entry" in result.stdout
    dropped = [line for i, line in enumerate(lines) if i != fact_lines[-1]]
    problems, _summary = verify_archive(dropped, keys.public_pem())
    assert any("not in the file" in p for p in problems), problems
    twice = fact_lines[0] + 1
    problems, _summary = verify_archive(lines[:twice] + [lines[fact_lines[0]]] + lines[twice:], keys.public_pem())
    assert any("in the file twice" in p for p in problems)
    problems, _summary = verify_archive(lines + [lines[fact_lines[0]]], keys.public_pem())
    assert any("not after its seal" in p for p in problems)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.PEM,
                                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    problems, _summary = verify_archive(lines, other)
    assert any("signature does not verify" in p for p in problems)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_verify_excuses_only_the_archived_beats(months, tmp_path, monkeypatch):
    old_beats = sorted(beats(occurred_at__lt=CUT))
    manual = CreditedTime.objects.get(source="manual").pk
    monkeypatch.setattr(archive, "finish", lambda **kwargs: 0)  # recorded, not deleted yet
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    assert not Seal.objects.get(pk=link.pk).archive_done and len(beats(occurred_at__lt=CUT)) == 7
    sql("UPDATE records_creditedtime SET seconds = 61 WHERE id = %s", [old_beats[0]])
    assert {(p.kind, p.fact_id) for p in services.verify().problems} == {("modified", old_beats[0])}
    monkeypatch.undo()
    intact = Seal.objects.get(pk=link.pk).signature
    Seal.objects.filter(pk=link.pk).update(signature="A" + intact[1:] if intact[0] != "A" else "B" + intact[1:])
    assert archive.finish() == 0 and len(beats(occurred_at__lt=CUT)) == 7  # a link that does not verify: nothing
    Seal.objects.filter(pk=link.pk).update(signature=intact)
    assert archive.finish() == 7 and archive.finish() == 0
    assert services.verify().ok
    sql("DELETE FROM records_creditedtime WHERE id = %s", [manual])  # a kept fact is still evidence
    assert {(p.kind, p.fact_id) for p in services.verify().problems} == {("removed", manual)}


def test_a_changed_or_forged_link_excuses_nothing(months, tmp_path):
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    manual = CreditedTime.objects.get(source="manual").pk
    sql("DELETE FROM records_creditedtime WHERE id = %s", [manual])
    # Dropping the manual credit from the kept list to excuse its deletion changes the link.
    kept = b"".join(i.to_bytes(8, "big") for i in sorted(
        CreditedTime.objects.exclude(source="tracking").values_list("id", flat=True)))
    Seal.objects.filter(pk=link.pk).update(kept=kept)
    found = {(p.kind, p.seal, p.fact_id) for p in services.verify().problems}
    assert ("seal_changed", link.number, None) in found
    assert any(kind == "removed" for kind, _seal, _fact in found)
    # A link written without the key: its signature fails, and the beats it names still count as removed.
    Seal.objects.filter(pk=link.pk).delete()
    forged = Seal.objects.create(number=link.number, created_at=NOW, fact_count=0, root=link.root,
                                 previous_hash=link.previous_hash, seal_hash="0" * 64, signature="AAAA",
                                 key_id=link.key_id, leaves=b"", encoding=3, archive=link.archive, kept=kept)
    kinds = {p.kind for p in services.verify().problems}
    assert {"seal_changed", "bad_signature", "removed"} <= kinds
    assert forged.pk


def test_nothing_is_recorded_when_the_archive_is_refused(months, tmp_path):
    path = tmp_path / "a.jsonl.gz"
    first = min(beats())
    sql("UPDATE records_creditedtime SET seconds = 120 WHERE id = %s", [first])
    with pytest.raises(archive.ArchiveRefused, match=f"#{first} was changed after it was sealed"):
        archive.archive(before=CUT, path=str(path), now=NOW)
    assert not path.exists() and not (tmp_path / "a.jsonl.gz.partial").exists()
    assert not Seal.objects.filter(archive__isnull=False).exists() and len(beats()) == 9
    sql("UPDATE records_creditedtime SET seconds = 60 WHERE id = %s", [first])
    sql("DELETE FROM records_creditedtime WHERE id = %s", [first])
    with pytest.raises(archive.ArchiveRefused, match=f"#{first} is missing"):
        archive.archive(before=CUT, path=str(path), now=NOW)
    with pytest.raises(archive.ArchiveRefused, match="in the future"):
        archive.archive(before=NOW + dt.timedelta(days=1), path=str(path), now=NOW)
    with pytest.raises(archive.ArchiveRefused, match="no seal made before"):
        archive.archive(before=SEALED_OLD, path=str(path), now=NOW)
    with pytest.raises(archive.ArchiveRefused, match="cannot write beside"):
        archive.archive(before=CUT, path=str(tmp_path / "no such folder" / "a.jsonl.gz"), now=NOW)
    path.write_bytes(b"kept")
    with pytest.raises(archive.ArchiveRefused, match="never overwrites"):
        archive.archive(before=CUT, path=str(path), now=NOW)
    assert path.read_bytes() == b"kept" and not Seal.objects.filter(archive__isnull=False).exists()


def test_a_zone_whose_days_start_inside_an_hour_cannot_archive(months, tmp_path, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with pytest.raises(archive.ArchiveRefused, match="Asia/Kolkata"):
        archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    assert len(beats()) == 9


def test_a_second_archive_takes_up_where_the_first_ended(months, tmp_path):
    first = archive.archive(before=CUT, path=str(tmp_path / "1.jsonl.gz"), now=NOW)
    with pytest.raises(archive.ArchiveRefused, match="no seal made before"):
        archive.archive(before=CUT, path=str(tmp_path / "again.jsonl.gz"), now=NOW)
    second = archive.archive(before=NOW, path=str(tmp_path / "2.jsonl.gz"), now=NOW)
    assert second.archive["first_seal"] == first.archive["last_seal"] + 1 and second.archive["facts"] == 2
    assert beats() == set() and services.verify().ok
    problems, summary = verify_archive(read_lines(tmp_path / "2.jsonl.gz"), keys.public_pem())
    assert problems == [] and summary["facts"] == 2  # the first link, inside the second range, verifies too


def test_the_archive_command(months, tmp_path, capsys):
    path = tmp_path / "march.jsonl.gz"
    call_command("archive", "--list")
    assert "no archives" in capsys.readouterr().out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("archive", "--before", "May 1st", "--to", str(path))
    with pytest.raises(CommandError, match="give --before"):
        call_command("archive")
    with pytest.raises(CommandError, match="nothing archived: .* in the future"):
        call_command("archive", "--before", "2099-01-01", "--to", str(path))
    call_command("archive", "--before", "2026-05-01", "--to", str(path))
    out = capsys.readouterr().out
    assert "7 beats of seals" in out and str(path) in out
    call_command("archive", "--list")
    assert "7 beats of seals" in capsys.readouterr().out
    call_command("archive", "--finish")
    assert "0 archived beats deleted" in capsys.readouterr().out
    call_command("verify", "--workers", "1")
    assert "7 of those facts were archived" in capsys.readouterr().out
    key = tmp_path / "key.pem"
    key.write_bytes(keys.public_pem())
    call_command("verify_bundle", str(path), "--public-key", str(key))
    assert "7 archived facts" in capsys.readouterr().out
    from learntrace.core.audit import AuditEntry
    assert AuditEntry.objects.filter(action="archive").count() == 1


def test_the_evidence_page_lists_the_archives_in_both_languages(months, tmp_path, client_for):
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    client = client_for(months.auditor)
    page = client.get(reverse("evidence:overview")).text
    assert link.archive["file_sha256"] in page and "deleted from the database" in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("evidence:overview"), headers={"accept-language": "zh-hans"}).text
    assert "学习记录归档" in page and "已从数据库删除" in page


def test_a_kept_list_check_reads_back_what_was_stored(months, tmp_path):
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    assert list(services.kept_ids(Seal.objects.get(pk=link.pk))) == sorted(
        CreditedTime.objects.exclude(source="tracking").values_list("id", flat=True))
    assert json.loads(read_lines(tmp_path / "a.jsonl.gz")[0])["format"] == archive.FORMAT


@pytest.mark.parametrize("encoding", [1, 2])
def test_beats_sealed_in_older_encodings_are_archived_as_they_were_hashed(org, catalog, tmp_path, monkeypatch,
                                                                            encoding):
    for minutes in range(3):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60,
                             occurred_at=MARCH + dt.timedelta(minutes=minutes))
    with monkeypatch.context() as patch:
        patch.setattr(services, "ENCODING", encoding)
        old = services.seal_pending(batch_size=2, now=SEALED_OLD)
    assert {seal.encoding for seal in old} == {encoding}
    path = tmp_path / "old.jsonl.gz"
    link = archive.archive(before=CUT, path=str(path), now=NOW)
    assert link.archive["facts"] == 3 and beats() == set() and services.verify().ok
    lines = read_lines(path)
    assert sum(('"fact"' if encoding == 1 else '"texts"') in line for line in lines) == 3
    problems, summary = verify_archive(lines, keys.public_pem())
    assert problems == [] and summary["facts"] == 3


def test_the_worker_archives_by_the_retention_setting_into_the_shared_storage(months, tmp_path, settings, client_for,
                                                                               caplog):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARCHIVE_BEATS_AFTER_MONTHS = 0
    assert archive.archive_by_retention(now=NOW) is None and len(beats()) == 9  # off by default
    settings.ARCHIVE_BEATS_AFTER_MONTHS = 2  # on 2 June: what was sealed before 1 April (nothing)
    assert archive.archive_by_retention(now=NOW) is None and len(beats()) == 9
    settings.ARCHIVE_BEATS_AFTER_MONTHS = 1  # before 1 May: March's beats, sealed on 1 April
    link = archive.archive_by_retention(now=NOW)
    assert link.archive["facts"] == 7 and len(beats()) == 2 and link.archive_done
    assert link.archive_file == "archives/beats-sealed-before-2026-05-01.jsonl.gz"
    stored = tmp_path / "media" / link.archive_file
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == link.archive["file_sha256"]
    assert archive.archive_by_retention(now=NOW + dt.timedelta(days=1)) is None  # the next night: nothing new
    # The auditor downloads it from the evidence page and verifies it offline; others may not.
    url = reverse("evidence:archive_file", args=[link.number])
    client = client_for(months.auditor)
    assert url in client.get(reverse("evidence:overview")).text
    response = client.get(url)
    assert response.status_code == 200 and "beats-sealed-before-2026-05-01.jsonl.gz" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content == stored.read_bytes()
    problems, summary = verify_archive(gzip.decompress(content).decode().splitlines(), keys.public_pem())
    assert problems == [] and summary["facts"] == 7
    assert client_for(months.learner).get(url).status_code == 403
    assert client_for(months.head).get(url).status_code == 403
    client = client_for(months.auditor)  # the one test client, signed in again
    assert client.get(reverse("evidence:archive_file", args=[link.number - 1])).status_code == 404  # not a link
    stored.unlink()
    gone = client.get(url)
    assert gone.status_code == 404 and "no longer in the shared storage" in gone.text


def test_the_worker_says_why_it_could_not_archive_and_records_nothing(months, tmp_path, settings, caplog):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARCHIVE_BEATS_AFTER_MONTHS = 1
    first = min(beats())
    sql("UPDATE records_creditedtime SET seconds = 120 WHERE id = %s", [first])
    assert archive.archive_by_retention(now=NOW) is None
    assert f"#{first} was changed after it was sealed" in caplog.text
    assert not Seal.objects.filter(archive__isnull=False).exists() and len(beats()) == 9
    assert not list((tmp_path / "media").rglob("*.gz"))


def test_archived_time_survives_recounts_rebuilds_and_corrections(months, tmp_path, org, catalog):
    """The hours of the running sums are counted again from the facts whenever a fact is changed or deleted,
    and all of them by `rebuild`: the archived beats' time is not in the facts any more, and stays counted."""
    from learntrace.records import sums as running_sums
    from learntrace.records.services import correct_time

    before = learner_time(org)
    archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    running_sums.rebuild()
    assert learner_time(org) == before
    manual = CreditedTime.objects.get(source="manual")  # kept, in the same hour as archived beats
    sql("UPDATE records_creditedtime SET seconds = seconds + 1 WHERE id = %s", [manual.pk])
    period, _years = learner_time(org)
    assert period == {key: seconds + (key == (org.learner.pk, "video")) for key, seconds in before[0].items()}
    assert stored_sums() == summed_facts()
    # 420 s of the course's 540 were archived: taking 300 s away is still within what was credited.
    newest = CreditedTime.objects.filter(employee=org.learner, course=catalog.video).latest("id")
    correct_time(actor=None, fact=newest, seconds_delta=-300, reason="watched with the sound off")
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        correct_time(actor=None, fact=newest, seconds_delta=-241, reason="more than was credited")


def test_offline_the_file_is_compared_with_its_signed_link_in_a_bundles_chain(months, tmp_path, capsys):
    """The file's own `kept` lists are not signed: moving an archived beat's id there and dropping its line
    leaves the file consistent, and only the link's signed digest of the kept ids tells."""
    from learntrace.evidence.bundle import make_bundle
    from learntrace.evidence.offline import main as offline_main

    path, key, chain = tmp_path / "a.jsonl.gz", tmp_path / "key.pem", tmp_path / "bundle.json"
    archive.archive(before=CUT, path=str(path), now=NOW)
    key.write_bytes(keys.public_pem())
    bundle = make_bundle(months.learner, start=MARCH, end=NOW)
    assert bundle["format"] == "learntrace-evidence-bundle/3"  # older verifiers say "format", not "changed"
    chain.write_text(json.dumps(bundle))
    assert offline_main([str(path), "--public-key", str(key), "--chain", str(chain)]) == 0
    assert "verified against its link" in capsys.readouterr().out
    lines = read_lines(path)
    victim = next(i for i, line in enumerate(lines) if '"texts"' in line)
    fact_id = int(json.loads(lines[victim])["texts"][1])
    seal_line = max(i for i, line in enumerate(lines[:victim]) if '"kept"' in line)
    seal = json.loads(lines[seal_line])
    seal["kept"] = sorted([*seal["kept"], fact_id])
    forged = [*lines[:seal_line], json.dumps(seal), *lines[seal_line + 1:victim], *lines[victim + 1:]]
    path.write_bytes(gzip.compress(("\n".join(forged) + "\n").encode()))
    assert offline_main([str(path), "--public-key", str(key)]) == 0  # consistent on its own ...
    assert "not compared with its link" in capsys.readouterr().out
    assert offline_main([str(path), "--public-key", str(key), "--chain", str(chain)]) == 1  # ... not with the link
    out = capsys.readouterr().out
    assert "the file's kept_sha256 is" in out and "its link #" in out
    path.write_bytes(b"\x1f\x8b" + b"not gzip")
    assert offline_main([str(path), "--public-key", str(key)]) == 2


def test_a_damaged_record_of_an_archive_is_reported_not_a_crash(months, tmp_path, capsys):
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    for damaged in (None, [1], {"first_seal": "1"}):
        sql("UPDATE evidence_seal SET archive = %s WHERE id = %s", [json.dumps(damaged), link.pk])
        found = {(p.kind, p.seal) for p in services.verify().problems}
        assert ("seal_changed", link.number) in found and any(kind == "removed" for kind, _seal in found)
        call_command("archive", "--list")
        assert "damaged" in capsys.readouterr().out
        assert archive.finish() == 0


def test_the_download_gives_only_files_an_archive_stored(months, tmp_path, settings, client_for):
    settings.MEDIA_ROOT = tmp_path / "media"
    link = archive.archive(before=CUT, now=NOW)
    client = client_for(months.auditor)
    url = reverse("evidence:archive_file", args=[link.number])
    assert client.get(url).status_code == 200
    for name in (str(settings.EVIDENCE_SIGNING_KEY_FILE), "archives/../secret.key", "exports/x.csv"):
        Seal.objects.filter(pk=link.pk).update(archive_file=name)
        assert client.get(url).status_code == 404


def test_a_file_that_appears_while_the_archive_runs_is_not_overwritten(months, tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl.gz"
    write = archive._write

    def meanwhile(*args):
        path.write_bytes(b"someone else's")
        return write(*args)

    monkeypatch.setattr(archive, "_write", meanwhile)
    with pytest.raises(archive.ArchiveRefused, match="exists already"):
        archive.archive(before=CUT, path=str(path), now=NOW)
    assert path.read_bytes() == b"someone else's" and not list(tmp_path.glob(".learntrace-archive-*"))
    assert not Seal.objects.filter(archive__isnull=False).exists() and len(beats()) == 9


def test_a_stored_copy_that_differs_is_removed_and_nothing_archived(months, tmp_path, settings, monkeypatch):
    from contextlib import contextmanager

    settings.MEDIA_ROOT = tmp_path / "media"
    other = tmp_path / "other"
    other.write_bytes(b"not what was written")

    @contextmanager
    def wrong_copy(name):
        yield other

    monkeypatch.setattr(archive.files, "local_copy", wrong_copy)
    with pytest.raises(archive.ArchiveRefused, match="did not keep"):
        archive.archive(before=CUT, now=NOW)
    assert not list((tmp_path / "media").rglob("*.gz"))
    assert not Seal.objects.filter(archive__isnull=False).exists() and len(beats()) == 9
