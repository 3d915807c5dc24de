"""An admin imports an online meeting's participant list, names the one person the list could
not match, and credits the attendance: in English on a desktop and in Chinese on a phone, with
axe-core's WCAG 2.1 AA checks on every page of the flow."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

import online_participants as lists
from accessibility import axe_violations
from conftest import PASSWORD
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Attendance, Meeting
from learntrace.onlineattendance.models import OnlineMeeting

TEXT = {
    "en": {"login": "Log in", "online": "Online attendance", "check": "Check the file", "save": "Save my choices",
           "credit": "Credit the attendance", "open": "1 participant still needs a decision.", "status": "Credited"},
    "zh-hans": {"login": "登录", "online": "线上考勤", "check": "校验文件", "save": "保存我的选择",
                "credit": "计入考勤", "open": "还有 1 名参会人待确认。", "status": "已计入"},
}


def accessibility_problems(page) -> list[str]:
    return axe_violations(page)


@pytest.mark.parametrize(("language", "phone"), [("en", False), ("zh-hans", True)])
def test_an_import_with_one_unmatched_row_reviewed(live_server, org, catalog, new_page, tmp_path, language, phone):
    org.learner.dingtalk_user_id = "dt_learner"
    org.learner.save()
    course = Course.objects.create(title="Nursing quality online", kind=CourseKind.LIVE, category=catalog.clinical,
                                   duration_seconds=3600, credits=Decimal("1"), is_published=True)
    shanghai = ZoneInfo("Asia/Shanghai")
    meeting = Meeting.objects.create(course=course, title="Nursing quality, November", roster=Meeting.Roster.OPEN,
                                     starts_at=dt.datetime(2026, 11, 20, 10, tzinfo=shanghai),
                                     ends_at=dt.datetime(2026, 11, 20, 11, tzinfo=shanghai))
    OnlineMeeting.objects.create(meeting=meeting, platform="dingtalk")
    data = lists.dingtalk([("李雷", "心内科", "dt_learner", "09:59:00", "10:58:00"),
                           ("王护士（外院进修）", "", "", "10:00:00", "11:00:00")])
    (tmp_path / "钉钉参会明细.csv").write_bytes(data)
    text = TEXT[language]

    page = new_page(phone=phone)
    page.goto(f"{live_server.url}/accounts/login/")
    if language == "en":
        with page.expect_navigation():
            page.select_option("#language-select", "en")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=text["login"], exact=True).click()
    page.goto(f"{live_server.url}/checkin/meetings/{meeting.pk}/")
    page.get_by_role("link", name=text["online"]).click()
    assert accessibility_problems(page) == []

    page.set_input_files("#id_file", str(tmp_path / "钉钉参会明细.csv"))
    page.get_by_role("button", name=text["check"]).click()
    expect(page.locator("#open-rows")).to_have_text(text["open"])
    expect(page.locator("tr[data-match='matched']")).to_contain_text("Learner in cardiology (E001)")
    assert accessibility_problems(page) == []

    unmatched = page.locator("tr[data-match='unmatched']")
    unmatched.locator("input[type=text]").fill("E002")
    page.get_by_role("button", name=text["save"]).click()
    page.get_by_role("button", name=text["credit"]).click()
    expect(page.locator("#status")).to_have_text(text["status"])
    expect(page.locator("tr[data-match='matched'] .badge.good")).to_have_count(2)
    assert accessibility_problems(page) == []
    assert sorted(Attendance.objects.filter(meeting=meeting).values_list("employee__employee_no", "credited_seconds")) \
        == [("E001", 3600), ("E002", 3600)]
