"""What people read: the right Chinese word for each sense of an English one, labels instead of codes,
reminders that name what is missing, one rounding of hours, a meeting's not-yet-arrived, quiet refusals."""

import datetime as dt
import io
import logging
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from conftest import make_employee
from learntrace.catalog.models import Category
from learntrace.checkin import selectors as checkin_selectors
from learntrace.checkin.models import Meeting
from learntrace.core.numbers import hours, hours_text
from learntrace.core.templatetags.learntrace import hours as hours_filter
from learntrace.notify import messages
from learntrace.notify.models import Channel
from learntrace.org.models import Department, Employee, Level, Role
from learntrace.org.services import department_save, role_grant
from learntrace.plans.models import LearningPlan, PeriodType
from learntrace.reports.exports import hours as export_hours
from test_checkin import START, at, check_in
from test_training_file import pdf_text


def label(model, field: str, language: str) -> str:
    with translation.override(language):
        return str(model._meta.get_field(field).verbose_name)


def test_one_english_word_is_two_chinese_words_by_what_it_names():
    assert [label(Employee, "name", "zh-hans"), label(Department, "name", "zh-hans"),
            label(Category, "name", "zh-hans"), label(LearningPlan, "name", "zh-hans"),
            label(Channel, "name", "zh-hans")] == ["姓名", "名称", "名称", "名称", "名称"]
    assert [label(Employee, "is_active", "zh-hans"), label(Category, "is_active", "zh-hans"),
            label(Channel, "is_active", "zh-hans")] == ["在职", "启用", "启用"]
    assert label(Category, "name", "en") == label(Employee, "name", "en") == "name"


def test_the_language_picker_names_each_language_in_its_own_name(org, client_for):
    for language in ("zh-hans", "en"):
        page = client_for(org.learner, language).get(reverse("home:home")).content.decode()
        assert '<option value="zh-hans" lang="zh-hans"' in page
        assert ">简体中文</option>" in page and ">English</option>" in page
        assert "英语" not in page and "Simplified Chinese" not in page


def test_a_category_shows_in_the_page_language_only(org, catalog):
    with translation.override("zh-hans"):
        assert str(catalog.management) == "管理"
    with translation.override("en"):
        assert str(catalog.management) == "Management"
    catalog.management.name_en = ""
    catalog.management.save()
    with translation.override("en"):
        assert str(catalog.management) == "管理"  # no English name: the Chinese one, not nothing


def test_the_audit_trail_says_what_happened_in_the_page_language(org, client_for):
    department_save(actor=org.admin.user, department=Department(code="ICU", name="重症医学科", parent=org.root))
    role_grant(actor=org.admin.user, user=org.learner.user, role=Role.DEPARTMENT_HEAD, department=org.a1)
    page = client_for(org.admin, "zh-hans").get(reverse("home:audit")).content.decode()
    assert "<td>授予角色</td>" in page and "<td>新建</td>" in page
    assert "部门负责人" in page and "department_head" not in page
    assert "启用: <span class=\"user-data\">—</span> → <span class=\"user-data\">是</span>" in page
    assert "is_active" not in page and "grant_role" not in page and "<td>create</td>" not in page
    english = client_for(org.admin, "en").get(reverse("home:audit")).content.decode()
    assert "<td>Role granted</td>" in english and "<td>Created</td>" in english
    assert "active: <span class=\"user-data\">—</span> → <span class=\"user-data\">yes</span>" in english


def test_a_plan_audience_level_is_shown_as_its_label(org, client_for):
    plan = LearningPlan.objects.create(name="科室主任培训", starts_on=dt.date(2026, 1, 1),
                                       audience_levels=[Level.DEPARTMENT_HEAD])
    page = client_for(org.admin, "zh-hans").get(reverse("plans:plan", args=[plan.pk])).content.decode()
    assert "<span class=\"badge\">部门负责人</span>" in page and "department_head" not in page


def standing(*, done: float, target: float, missing: list, language: str = "zh-hans"):
    plan = SimpleNamespace(name="月度培训", period_type=PeriodType.MONTHLY)
    due = dt.datetime(2026, 3, 26, tzinfo=dt.UTC)
    return SimpleNamespace(employee=SimpleNamespace(name="王建国", language=language,
                                                    department=SimpleNamespace(name="内科")),
                           period=SimpleNamespace(plan=plan, due_at=due), total_seconds=int(done * 3600),
                           target_seconds=int(target * 3600), missing=missing)


def test_a_reminder_when_the_hours_are_met_says_what_is_missing():
    met = standing(done=8, target=8, missing=[{"what": "course", "title": "医疗合规手册"},
                                              {"what": "credits", "owed": "2.50"}])
    _subject, text, _link = messages.reminder(met)
    assert "还需完成0小时" not in text and "0小时" not in text
    assert "您本月已完成8小时学习，学时已达标。" in text
    assert "医疗合规手册" in text and "2.5" in text
    english = standing(done=8, target=8, missing=[{"what": "course", "title": "Compliance"}], language="en")
    assert "This month you have completed 8 hours of learning: the hours are met." in messages.reminder(english)[1]


def test_a_digest_line_names_what_each_person_misses():
    head = SimpleNamespace(name="主任", language="zh-hans")
    plan = SimpleNamespace(pk=1, name="月度培训")
    behind = [standing(done=8, target=8, missing=[{"what": "course", "title": "A"}, {"what": "course", "title": "B"},
                                                  {"what": "reflection"}]),
              standing(done=3, target=8, missing=[])]
    _subject, text, _link = messages.digest(head, plan, behind[0].period, behind)
    assert "- 王建国（内科）：2门必修课程未完成；学习心得未提交" in text
    assert "- 王建国（内科）：已完成3小时，还需5小时" in text


@pytest.mark.parametrize(("seconds", "shown"), [(5580, "1.6"), (12780, "3.6"), (3 * 3600 + 1979, "3.5"),
                                                (3600, "1.0"), (0, "0.0"), (179, "0.0"), (180, "0.1")])
def test_hours_round_one_way_on_pages_exports_and_reminders(seconds, shown):
    """A 93-minute meeting is 1.6 h, 3 h 33 min is 3.6 h: on a page, in a spreadsheet and in a reminder."""
    assert hours(seconds) == Decimal(shown) and hours_text(seconds) == shown
    assert hours_filter(seconds) == shown
    assert export_hours(seconds) == float(shown)
    assert messages._hours(seconds) == shown.removesuffix(".0")


def test_someone_not_checked_in_is_not_yet_arrived_until_check_in_closes(org, catalog, client_for):
    meeting = Meeting.objects.create(course=catalog.meeting, title="晨会", starts_at=START,
                                     ends_at=START + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE,
                                     closes_minutes_after=30)
    meeting.roster_people.set([org.head, org.learner])
    meeting.organisers.set([org.head])
    check_in(meeting, org.head, at(1))
    during = {row.employee.pk: row.status for row in checkin_selectors.attendance_rows(meeting, now=at(29))}
    after = {row.employee.pk: row.status for row in checkin_selectors.attendance_rows(meeting, now=at(30))}
    assert during == {org.head.pk: "on_time", org.learner.pk: "not_arrived"}
    assert after == {org.head.pk: "on_time", org.learner.pk: "absent"}
    client = client_for(org.head, "zh-hans")
    url = reverse("checkin:meeting", args=[meeting.pk])
    with time_machine.travel(at(10), tick=False):
        page = client.get(url).content.decode()
    assert f'data-employee="{org.learner.employee_no}" data-status="not_arrived"' in page
    assert '<span class="badge">未到</span>' in page and "缺席" not in page
    with time_machine.travel(at(45), tick=False):
        page = client.get(url).content.decode()
    assert f'data-employee="{org.learner.employee_no}" data-status="absent"' in page


@pytest.fixture
def console():
    """What the server's console handler prints."""
    handler = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_refusal_is_logged_as_one_line_without_a_traceback(org, client_for, console):
    assert client_for(org.learner).get(reverse("home:audit")).status_code == 403
    printed = console.getvalue().strip().splitlines()
    assert len(printed) == 1 and printed[0].endswith("WARNING django.request Forbidden (Permission denied): /audit/")
    assert "Traceback" not in console.getvalue()


def test_the_favicon_is_an_icon_not_a_404(client, console):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/learntrace/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
    assert console.getvalue() == ""


def test_the_english_transcript_shows_chinese_names(org, client_for):
    org.learner.name, org.learner.position = "王建国", "内科主任"
    org.learner.save()
    org.a1.name = "心内科"
    org.a1.save()
    make_employee("E009", "李明", org.a1)
    response = client_for(org.learner).get(reverse("trainingfile:my_transcript"), {"lang": "en"})
    shown = pdf_text(response.content)
    assert "王建国" in shown and "内科主任" in shown and "心内科" in shown
    assert "Training transcript" in shown


def test_every_xlsx_has_widths_a_frozen_filterable_header_and_real_dates():
    from openpyxl import load_workbook

    from learntrace.core.spreadsheets import xlsx_bytes

    # local times without a zone, as the exports hand them to the spreadsheet
    checked_in = dt.datetime(2026, 3, 10, 9, 1, 2, 345678, tzinfo=dt.UTC).replace(tzinfo=None)
    content = xlsx_bytes(["工号", "姓名", "check-in", "hours"], [["E001", "王建国", checked_in, 1.6],
                                                               ["E002", "李明", None, 0.0]], sheet_name="签到")
    sheet = load_workbook(io.BytesIO(content))["签到"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:D3"
    assert sheet["C2"].value == checked_in.replace(microsecond=0) and sheet["C2"].is_date
    assert sheet["D2"].value == 1.6 and isinstance(sheet["D2"].value, float)
    # xlsxwriter adds 0.71 of padding: 10 characters for short columns, 18 for a date and time
    assert [sheet.column_dimensions[c].width for c in "AC"] == pytest.approx([10.71, 18.71], abs=0.01)
