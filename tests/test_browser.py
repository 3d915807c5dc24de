"""User flows in a real browser: logging in as each role in both languages,
and an organisation import from upload to confirmation."""

import csv
import re

import pytest
from playwright.sync_api import expect

from accessibility import axe_violations
from conftest import PASSWORD

ROLE_TEXT = {
    "en": {"learner": "Learner", "head": "Department head", "admin": "Training admin", "auditor": "Auditor",
           "roles": "Your roles:", "login": "Log in", "logout": "Log out"},
    "zh-hans": {"learner": "学员", "head": "部门负责人", "admin": "培训管理员", "auditor": "审计员",
                "roles": "您的角色:", "login": "登录", "logout": "退出登录"},
}


def log_in(page, base_url, username, language):
    page.goto(f"{base_url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")  # a fresh visitor gets Chinese
    if language == "en":
        with page.expect_navigation():
            page.select_option("#language-select", "en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=ROLE_TEXT[language]["login"], exact=True).click()
    expect(page.get_by_text(ROLE_TEXT[language]["roles"])).to_be_visible()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("who", ["learner", "head", "admin", "auditor"])
def test_each_role_logs_in_and_sees_its_own_menu(live_server, org, new_page, who, language):
    page = new_page(phone=(who == "learner"))
    log_in(page, live_server.url, who, language)
    text = ROLE_TEXT[language]
    expect(page.locator(f".badge.role-{ {'head': 'department_head', 'admin': 'training_admin'}.get(who, who) }"))\
        .to_have_text(text[who])
    nav = page.locator("header nav")
    import_link = nav.locator("a[href='/org/import/']")
    employees_link = nav.locator("a[href='/org/employees/']")
    expect(import_link).to_have_count(1 if who == "admin" else 0)
    expect(employees_link).to_have_count(0 if who == "learner" else 1)
    assert axe_violations(page) == []  # each role's home page, the learner's on a phone
    page.get_by_role("button", name=text["logout"]).click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_a_head_sees_only_their_department_in_the_browser(live_server, org, new_page):
    page = new_page()
    log_in(page, live_server.url, "head", "en")
    page.goto(f"{live_server.url}/org/employees/")
    expect(page.get_by_role("link", name=org.learner.name)).to_be_visible()
    expect(page.get_by_text(org.outsider.name)).to_have_count(0)
    response = page.goto(f"{live_server.url}/org/employees/{org.outsider.pk}/")
    assert response.status == 404


def test_the_admin_imports_a_file_after_checking_it(live_server, org, new_page, tmp_path):
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["工号", "姓名", "部门编码", "职级"])
        writer.writerow(["B100", "新来的经理", "IM-CARD", "经理"])
        writer.writerow(["B101", "另一位护士", "SURG", "员工"])
    page = new_page()
    log_in(page, live_server.url, "admin", "zh-hans")
    page.locator("header summary", has_text="管理").click()  # the menu's group of management links
    page.get_by_role("link", name="导入", exact=True).click()
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="校验文件").click()
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "validated")
    expect(status.locator(".employees-created")).to_have_text("2")
    page.get_by_role("button", name="立即导入").click()
    expect(status).to_have_attribute("data-status", "applied")
    page.goto(f"{live_server.url}/org/employees/?q=B10")
    expect(page.get_by_role("link", name="新来的经理")).to_be_visible()
    expect(page.get_by_role("link", name="另一位护士")).to_be_visible()


def test_a_file_with_errors_shows_them_and_cannot_be_imported(live_server, org, new_page, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("employee_no,name,department_code\nB200,Someone,NOWHERE\nB200,Twice,IM\n", encoding="utf-8")
    page = new_page()
    log_in(page, live_server.url, "admin", "en")
    page.goto(f"{live_server.url}/org/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Check the file").click()
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "invalid")
    expect(status.locator("table.errors tbody tr")).to_have_count(2)
    expect(status).to_contain_text("Unknown department “NOWHERE”")
    expect(page.get_by_role("button", name="Import now")).to_have_count(0)


def test_the_admin_creates_the_hospital_plan_and_a_head_sees_what_is_owed(live_server, org, catalog, new_page):
    from django.utils import timezone

    admin = new_page()
    log_in(admin, live_server.url, "admin", "en")
    admin.goto(f"{live_server.url}/plans/new/")
    admin.fill("#id_name", "Department heads' monthly management training")
    admin.select_option("#id_period_type", "monthly")
    admin.fill("#id_starts_on", timezone.localdate().replace(day=1).isoformat())
    admin.fill("#id_due_day", "25")
    admin.select_option("#id_departments_with_subtree", str(org.root.pk))
    admin.check("input[name=levels][value=department_head]")
    admin.fill("#id_min_total_hours", "8")
    admin.fill("#id_min_video_hours", "4")
    admin.fill("#id_min_offline_hours", "4")
    admin.check(f"input[name=counted_categories][value='{catalog.management.pk}']")
    admin.fill("#id_credits-0-min_credits", "25")
    admin.select_option("#id_credits-1-category", str(catalog.management.pk))
    admin.fill("#id_credits-1-min_credits", "5")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator("#plan-status")).to_have_text("Draft")
    admin.get_by_role("button", name="Publish").click()
    expect(admin.locator("#plan-status")).to_have_text("Published")
    expect(admin.locator("#audience-size")).to_contain_text("1 person")

    head = new_page(phone=True)
    log_in(head, live_server.url, "head", "en")
    head.goto(f"{live_server.url}/plans/my/")
    card = head.locator(".progress-card")
    expect(card.locator(".hours-sentence")).to_have_text("This month: 0.0 h done, 8.0 h to go.")
    expect(card.locator("tr[data-kind=video] .owed")).to_have_text("4.0 h owed")
    expect(card.locator("tr[data-kind=offline] .owed")).to_have_text("4.0 h owed")
    with head.expect_navigation():
        head.select_option("#language-select", "zh-hans")
    expect(card.locator(".hours-sentence")).to_have_text("本月已完成 0.0 小时,还需 8.0 小时")
    # The learner in cardiology is a manager, not a department head: nothing is owed.
    learner = new_page()
    log_in(learner, live_server.url, "learner", "en")
    learner.goto(f"{live_server.url}/plans/my/")
    expect(learner.get_by_text("No learning plan applies right now.")).to_be_visible()


DEMO_VIDEO = "strategic-management-part1.webm"  # 15 minutes of a tiny test pattern, shipped with the demo


@pytest.fixture
def tracked_video(catalog, settings):
    from pathlib import Path

    from django.core.files import File

    import learntrace.demo
    from learntrace.catalog.models import Course, CourseKind

    settings.TRACKER_BEAT_MS = 1000
    course = Course(title="Segment one", kind=CourseKind.VIDEO, category=catalog.management, duration_seconds=900,
                    is_published=True)
    with (Path(learntrace.demo.__file__).parent / "media" / DEMO_VIDEO).open("rb") as handle:
        course.video_file.save(DEMO_VIDEO, File(handle), save=False)
    course.save()
    return course


def server_coverage(employee, course):
    from learntrace.records.models import CourseProgress

    coverage = CourseProgress.objects.filter(employee=employee, course=course).first()
    return (coverage.credited_ms, [tuple(i) for i in coverage.intervals]) if coverage else (0, [])


def settle(page, seconds=2.5):
    page.wait_for_timeout(seconds * 1000)  # a beat is sent every second in this test


def test_watching_a_real_video_is_credited_as_played(live_server, org, new_page, tracked_video):
    page = new_page(phone=True)
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{tracked_video.pk}/")
    expect(page.locator("[data-tracker]")).to_have_attribute("data-attempt", re.compile(r"^[0-9a-f-]{36}$"))
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_timeout(5000)
    played = page.evaluate("() => { const v = document.querySelector('video'); v.pause(); return v.currentTime; }")
    settle(page)
    credited, intervals = server_coverage(org.learner, tracked_video)
    assert played > 3
    assert abs(credited - played * 1000) < 1500, (credited, played)
    expect(page.locator(".tracker-indicator")).to_contain_text("Credited 0:0")
    # The player's percentage is the course page's: the credited time over the course's length.
    page.reload()
    mine = page.locator("#my-progress")
    expect(mine).to_contain_text(f"In progress: {credited * 100 // (tracked_video.duration_seconds * 1000)} % "
                                 "of the course credited")

    # Seeking ahead is allowed here, but the skipped part is never credited.
    page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = 600; return v.play(); }")
    page.wait_for_timeout(2000)
    page.evaluate("() => document.querySelector('video').pause()")
    settle(page)
    after_seek, intervals = server_coverage(org.learner, tracked_video)
    assert 1000 <= after_seek - credited < 3500
    assert not any(start < 590_000 < end for start, end in intervals)

    # A hidden page credits nothing, even while the video plays on.
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {value: true, configurable: true});
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
        return document.querySelector('video').play();
    }""")
    page.wait_for_timeout(3000)
    settle(page)
    hidden_credit, _ = server_coverage(org.learner, tracked_video)
    assert hidden_credit - after_seek < 600


def test_no_skipping_courses_send_the_player_back(live_server, org, new_page, tracked_video):
    tracked_video.no_skipping = True
    tracked_video.save()
    page = new_page()
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{tracked_video.pk}/")
    expect(page.locator("[data-tracker]")).to_have_attribute("data-attempt", re.compile(r"."))
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    position = page.evaluate("""async () => {
        const v = document.querySelector('video');
        v.currentTime = 500;
        await new Promise(resolve => v.addEventListener('seeked', resolve, {once: true}));
        await new Promise(resolve => setTimeout(resolve, 300));
        return v.currentTime;
    }""")
    assert position < 5


def test_qr_check_in_from_a_phone_with_login_and_the_one_phone_rule(live_server, org, catalog, new_page):
    from datetime import timedelta

    from django.utils import timezone

    from learntrace.checkin.models import Attendance, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.head, org.learner])
    projector = new_page()
    log_in(projector, live_server.url, "admin", "en")
    projector.goto(f"{live_server.url}/checkin/meetings/{meeting.pk}/projector/")
    expect(projector.locator(".qr svg")).to_be_visible()
    expect(projector.locator("#live-count")).to_have_text("0")
    scan_url = projector.locator(".qr").get_attribute("data-url")

    phone = new_page(phone=True)
    phone.goto(scan_url)  # not logged in yet: the scan is judged now, the login comes after
    expect(phone).to_have_url(re.compile(r"/accounts/login/"))
    phone.fill("#id_username", "learner")
    phone.fill("#id_password", PASSWORD)
    phone.locator("button[type=submit]").click()
    phone.get_by_role("button", name=re.compile("签到|Check in")).click()
    expect(phone.locator("#checkin-result")).to_have_attribute("data-outcome", "done")
    assert Attendance.objects.filter(meeting=meeting, employee=org.learner).exists()
    expect(projector.locator("#live-count")).to_have_text("1", timeout=10_000)  # the projector polls
    expect(projector.locator("ul.present")).to_contain_text(org.learner.name)

    # The same phone, now for the head: refused, whoever logs in on it.
    phone.get_by_role("button", name=re.compile("退出登录|Log out")).click()
    phone.goto(projector.locator(".qr").get_attribute("data-url"))
    phone.fill("#id_username", "head")
    phone.fill("#id_password", PASSWORD)
    phone.locator("button[type=submit]").click()
    phone.get_by_role("button", name=re.compile("签到|Check in")).click()
    expect(phone.locator("#checkin-result")).to_have_attribute("data-reason", "device_used")
    assert not Attendance.objects.filter(meeting=meeting, employee=org.head).exists()


def test_a_file_with_some_columns_leaves_the_others_and_the_plan_alone(live_server, org, new_page, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from learntrace.org.models import Employee, Level
    from learntrace.plans import services as plans
    from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanDepartment

    plan = LearningPlan.objects.create(name="Managers", period_type=PeriodType.MONTHLY,
                                       starts_on=timezone.localdate().replace(day=1),
                                       audience_levels=[Level.MANAGER], min_total_seconds=3600)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plans.publish_plan(actor=None, plan=plan)
    learner = org.learner
    learner.email, learner.mobile, learner.dingtalk_user_id = "li@example.com", "13800000001", "ding-li"
    learner.wecom_user_id, learner.feishu_user_id, learner.hire_date = "wecom-li", "feishu-li", dt.date(2019, 4, 1)
    learner.national_id, learner.tags = "11010519491231002X", Employee.join_tags(["新任经理"])
    learner.save()
    fields = ["email", "mobile", "dingtalk_user_id", "wecom_user_id", "feishu_user_id", "hire_date",
              "national_id", "tags", "level", "is_active", "department_id"]
    before = {name: getattr(Employee.objects.get(pk=learner.pk), name) for name in fields}
    assert Assignment.objects.filter(employee=learner, removed_at__isnull=True).count() == 1

    path = tmp_path / "positions.csv"
    path.write_text(f"工号,姓名,部门编码,职位\n{learner.employee_no},{learner.name},IM-CARD,主治医师\n",
                    encoding="utf-8")
    page = new_page()
    log_in(page, live_server.url, "admin", "zh-hans")
    page.goto(f"{live_server.url}/org/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="校验文件").click()
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "validated")
    expect(status.locator(".employees-updated")).to_have_text("1")
    changes = status.locator("table.changes tbody tr")
    expect(changes).to_have_count(1)
    expect(changes.first).to_have_attribute("data-column", "position")
    expect(changes.first.locator(".new")).to_have_text("主治医师")
    page.get_by_role("button", name="立即导入").click()
    expect(status).to_have_attribute("data-status", "applied")
    expect(status.locator("h2")).to_have_text("已变更的内容")

    after = Employee.objects.get(pk=learner.pk)
    assert after.position == "主治医师"
    assert {name: getattr(after, name) for name in fields} == before
    assert Assignment.objects.filter(employee=learner, removed_at__isnull=True).count() == 1



def test_a_scan_link_forwarded_to_another_phone_checks_no_one_in(live_server, org, catalog, new_page):
    from datetime import timedelta
    from urllib.parse import unquote

    from django.utils import timezone

    from learntrace.checkin import services
    from learntrace.checkin.models import Attendance, CheckInEvent, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.head, org.learner])
    code = services.current_codes(meeting, timezone.now())["token"]

    scanner = new_page(phone=True)
    scanner.goto(f"{live_server.url}/checkin/s/{meeting.pk}/{code}/")  # not logged in yet
    expect(scanner).to_have_url(re.compile(r"/accounts/login/\?next=/checkin/t/"))
    ticket_url = live_server.url + unquote(scanner.url.split("next=")[1])

    other = new_page(phone=True)  # the link, sent on to someone else's phone
    other.goto(ticket_url)
    other.fill("#id_username", "head")
    other.fill("#id_password", PASSWORD)
    other.locator("button[type=submit]").click()
    expect(other.locator("#checkin-result")).to_have_attribute("data-reason", "other_browser")
    expect(other.get_by_role("alert")).to_contain_text("自己扫描屏幕上的二维码")

    scanner.fill("#id_username", "learner")  # the phone that scanned logs in and checks in
    scanner.fill("#id_password", PASSWORD)
    scanner.locator("button[type=submit]").click()
    scanner.get_by_role("button", name=re.compile("签到|Check in")).click()
    expect(scanner.locator("#checkin-result")).to_have_attribute("data-outcome", "done")
    assert list(Attendance.objects.filter(meeting=meeting).values_list("employee", flat=True)) == [org.learner.pk]
    assert CheckInEvent.objects.filter(reason="other_browser", employee=org.head).exists()


def test_typing_wrong_codes_locks_typing_and_the_organiser_sees_it(live_server, org, catalog, new_page):
    from datetime import timedelta

    from django.utils import timezone

    from learntrace.checkin.models import Attendance, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.head, org.learner])
    meeting.organisers.set([org.head])
    phone = new_page(phone=True)
    log_in(phone, live_server.url, "learner", "zh-hans")
    for _attempt in range(6):
        phone.goto(f"{live_server.url}/checkin/code/")
        phone.fill("#id_meeting", str(meeting.pk))
        phone.fill("#id_code", "０００００１")  # full-width digits, as a Chinese keyboard may type them
        phone.locator("button.primary").click()
        expect(phone.locator("#checkin-result")).to_have_attribute("data-outcome", "refused")
    expect(phone.locator("#checkin-result")).to_have_attribute("data-reason", "code_locked")
    expect(phone.get_by_role("alert")).to_contain_text("分钟后才能再次输入")
    assert not Attendance.objects.exists()

    organiser = new_page()
    log_in(organiser, live_server.url, "head", "en")
    organiser.goto(f"{live_server.url}/checkin/meetings/{meeting.pk}/")
    row = organiser.locator(".code-guesses tr[data-scope=person]")
    expect(row).to_contain_text(org.learner.name)
    expect(row.locator("td.wrong")).to_have_text("5")
    expect(row.locator("td.lockouts")).to_have_text("1")
