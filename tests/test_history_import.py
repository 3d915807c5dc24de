"""Importing training records from before learntrace."""

import csv

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from learntrace.evidence import services as evidence
from learntrace.records.history import HistoryImport
from learntrace.records.models import Completion, CreditedTime, Source

HEADER = ["工号", "课程", "日期", "学时", "是否完成", "学分", "学分类别", "类别", "来源说明"]


def write(path, rows, header=HEADER):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_dry_run_then_the_import_marks_provenance_and_is_idempotent(org, catalog, tmp_path):
    path = write(tmp_path / "paper.csv", [
        [org.head.employee_no, "Monthly management meeting", "2023-05-08", "2", "是", "", "", "", "纸质签到表 2023-05"],
        [org.head.employee_no, f"#{catalog.video.pk}", "2023/06/01", "", "1", "3.5", "cme-2", "clinical", ""],
        [org.learner.employee_no, "Sepsis update", "2023-07-01", "0.5", "否", "", "", "", ""],
    ])
    checked = HistoryImport(path, path.name).dry_run()
    assert checked.ok and (checked.facts, checked.completions) == (3, 2)
    assert not CreditedTime.objects.exists()
    result = HistoryImport(path, path.name).apply(actor=org.admin.user)
    assert result.ok
    meeting_time = CreditedTime.objects.get(employee=org.head, course=catalog.meeting)
    assert meeting_time.source == Source.IMPORTED and meeting_time.seconds == 7200
    assert meeting_time.details["note"] == "纸质签到表 2023-05"
    assert CreditedTime.objects.get(employee=org.head, course=catalog.video).seconds == 4 * 3600  # the course's
    video = Completion.objects.get(employee=org.head, course=catalog.video)
    assert video.credits == 3.5 and video.credit_class == catalog.cme2 and video.category == catalog.clinical
    assert not Completion.objects.filter(employee=org.learner).exists()
    again = HistoryImport(path, path.name).apply(actor=org.admin.user)
    assert again.unchanged == 3 and again.facts == 0 and again.completions == 0
    assert CreditedTime.objects.count() == 3
    evidence.seal_pending()
    assert evidence.verify().ok


def test_row_errors_and_nothing_written(org, catalog, tmp_path):
    path = write(tmp_path / "bad.csv", [
        [org.head.employee_no, "Monthly management meeting", "2023-05-08", "2", "1", "", "", "", ""],
        ["NOBODY", "Monthly management meeting", "2023-05-08", "", "", "", "", "", ""],
        [org.head.employee_no, "No such course", "2023-05-08", "", "", "", "", "", ""],
        [org.head.employee_no, "Sepsis update", "2023-02-30", "-1", "maybe", "abc", "gold", "nope", ""],
    ])
    result = HistoryImport(path, path.name).apply(actor=None)
    assert not result.ok
    assert {(e["row"], e["column"]) for e in result.errors} >= {
        (3, "工号"), (4, "课程"), (5, "日期"), (5, "学时"), (5, "是否完成"), (5, "学分"), (5, "学分类别"), (5, "类别")}
    assert not CreditedTime.objects.exists() and not Completion.objects.exists()


def test_the_command_and_the_page(org, client_for, catalog, tmp_path):
    path = write(tmp_path / "paper.csv", [[org.head.employee_no, "Sepsis update", "2023-05-08", "1", "1", "", "", "",
                                           ""]])
    call_command("import_history", str(path), "--dry-run")
    assert not Completion.objects.exists()
    bad = write(tmp_path / "bad.csv", [["NOBODY", "Sepsis update", "2023-05-08", "", "", "", "", "", ""]])
    with pytest.raises(CommandError):
        call_command("import_history", str(bad))
    client = client_for(org.admin)
    with path.open("rb") as handle:
        page = client.post(reverse("records:import_history"), {"file": handle})
    assert 'data-ok="1"' in page.text
    token = page.context["token"]
    client.post(reverse("records:import_history"), {"token": token})
    assert Completion.objects.filter(employee=org.head, source=Source.IMPORTED).exists()
    assert client_for(org.auditor).get(reverse("records:import_history")).status_code == 403
    assert client_for(org.admin).post(reverse("records:import_history"), {"token": "forged"}).status_code == 302
