"""Online meetings' attendance from the platforms' participant lists: each platform's format,
matching, the presence rule at its boundary, crediting once, bad files, and Feishu's API."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import fake_meetings
import online_participants as lists
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
from learntrace.core.models import AuditEntry
from learntrace.onlineattendance import formats, services
from learntrace.onlineattendance.models import OnlineMeeting, Participant, ParticipantImport
from learntrace.records.models import CreditedTime

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def live(org, catalog):
    org.learner.mobile, org.learner.email = "13800138000", "learner@example.org"
    org.learner.feishu_user_id, org.learner.dingtalk_user_id = "fs_learner", "dt_learner"
    org.learner.save()
    course = Course.objects.create(title="Nursing quality online", kind=CourseKind.LIVE, category=catalog.clinical,
                                   duration_seconds=3600, credits=Decimal("1"), credit_class=catalog.cme2,
                                   is_published=True)
    meeting = Meeting.objects.create(course=course, title="Nursing quality, November",
                                     starts_at=dt.datetime(2026, 11, 20, 10, tzinfo=SHANGHAI),
                                     ends_at=dt.datetime(2026, 11, 20, 11, tzinfo=SHANGHAI),
                                     roster=Meeting.Roster.OPEN)
    return meeting


def online(meeting, **fields) -> OnlineMeeting:
    found = services.online_of(meeting)
    for name, value in fields.items():
        setattr(found, name, value)
    found.save()
    return found


def upload(client, meeting, name: str, data: bytes):
    return client.post(reverse("onlineattendance:upload", args=[meeting.pk]),
                       {"file": SimpleUploadedFile(name, data)})


def dry_run(tmp_path, name, data, meeting, actor=None, **fields):
    path = tmp_path / name
    path.write_bytes(data)
    parsed = formats.read_file(path, name, SHANGHAI)
    return services.create_import(actor=actor, online=online(meeting, **fields), parsed=parsed, source="file",
                                  file_name=name, data=data)


def credited(employee, meeting) -> int:
    return sum(CreditedTime.objects.filter(employee=employee, course=meeting.course).values_list("seconds", flat=True))


# ---------------------------------------------------------------- each platform's format

def test_tencent_meeting_xlsx_merges_rejoins_and_matches_by_mobile(live, org, tmp_path):
    data = lists.tencent([("小李", "+86 138-0013-8000", "", "09:55:10", "10:30:00"),
                          ("小李", "+86 138-0013-8000", "", "10:29:00", "10:40:00"),  # overlaps: two devices
                          ("小李", "+86 138-0013-8000", "", "10:45:00", "10:56:00")])
    batch = dry_run(tmp_path, "参会明细.xlsx", data, live, platform="tencent")
    [person] = batch.participants.all()
    assert (person.match, person.matched_by, person.employee) == ("matched", "mobile", org.learner)
    assert person.rows == [6, 7, 8]  # the header is row 5 of the sheet, after the meeting's details
    assert person.intervals == [["2026-11-20T09:55:10+08:00", "2026-11-20T10:40:00+08:00"],
                                ["2026-11-20T10:45:00+08:00", "2026-11-20T10:56:00+08:00"]]
    assert person.present_seconds == 40 * 60 + 11 * 60  # from 10:00 only, the overlap once


def test_dingtalk_csv_in_gb18030_matches_by_user_id(live, org, tmp_path):
    data = lists.dingtalk([("李雷", "心内科", "dt_learner", "10:00:00", "10:55:00")])
    batch = dry_run(tmp_path, "dingtalk.csv", data, live, platform="dingtalk")
    [person] = batch.participants.all()
    assert (person.name, person.department, person.matched_by, person.employee) == (
        "李雷", "心内科", "user_id", org.learner)
    assert person.present_seconds == 55 * 60


def test_feishu_xlsx_reads_the_zone_and_matches_by_employee_number(live, org, tmp_path):
    # 03:00 in GMT+01:00 is 10:00 in Shanghai; the masked mobile matches nobody by itself.
    data = lists.feishu([("Learner", "Cardiology", "", "E001", "+86138****8000", "03:00:00", "03:30:00")],
                        zone="GMT+01:00")
    batch = dry_run(tmp_path, "feishu.xlsx", data, live, platform="feishu")
    [person] = batch.participants.all()
    assert (person.matched_by, person.employee, person.present_seconds) == ("employee_no", org.learner, 1800)
    assert person.first_join == dt.datetime(2026, 11, 20, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize("chinese", [False, True])
def test_zoom_csv_after_its_summary_matches_by_email(live, org, tmp_path, chinese):
    data = lists.zoom([("Ward 3 (Learner in cardiology)", "LEARNER@example.org", "09:58:00 AM", "10:20:00 AM"),
                       ("Ward 3 (Learner in cardiology)", "LEARNER@example.org", "10:25:00 AM", "11:05:00 AM")],
                      chinese=chinese)
    assert data.startswith(b"\xef\xbb\xbf")
    batch = dry_run(tmp_path, "participants_98765432100.csv", data, live, platform="zoom")
    [person] = batch.participants.all()
    assert (person.matched_by, person.employee, person.present_seconds) == ("email", org.learner, 55 * 60)
    assert person.rows == [5, 6]


# ---------------------------------------------------------------- matching

def test_name_with_department_matches_and_a_name_alone_only_proposes(live, org, tmp_path):
    data = lists.dingtalk([("Outsider in surgery", "Surgery", "", "10:00:00", "11:00:00"),
                           ("Head of medicine", "", "", "10:00:00", "11:00:00"),
                           ("Somebody else", "Surgery", "", "10:00:00", "11:00:00")])
    batch = dry_run(tmp_path, "d.csv", data, live, platform="dingtalk")
    found = {p.name: p for p in batch.participants.all()}
    assert (found["Outsider in surgery"].match, found["Outsider in surgery"].matched_by,
            found["Outsider in surgery"].employee) == ("matched", "name_department", org.outsider)
    assert found["Head of medicine"].match == "ambiguous"
    assert list(found["Head of medicine"].candidates.all()) == [org.head]
    assert (found["Somebody else"].match, found["Somebody else"].employee) == ("unmatched", None)
    assert services.open_rows(batch) == 2


def test_two_people_of_one_name_are_ambiguous_even_with_another_department(live, org, tmp_path):
    from conftest import make_employee

    twin = make_employee("E900", "Outsider in surgery", org.a, username="twin")
    data = lists.dingtalk([("Outsider in surgery", "Pharmacy", "", "10:00:00", "11:00:00")])
    batch = dry_run(tmp_path, "d.csv", data, live, platform="dingtalk")
    [person] = batch.participants.all()
    assert person.match == "ambiguous"
    assert sorted(e.employee_no for e in person.candidates.all()) == ["E002", twin.employee_no]


# ---------------------------------------------------------------- presence rule and crediting

@pytest.mark.parametrize(("leave", "expected"), [("10:51:00", 3600), ("10:50:59", 0)])
def test_exactly_the_rule_s_share_is_credited(live, org, tmp_path, leave, expected):
    data = lists.dingtalk([("L", "", "dt_learner", "10:00:00", leave)])
    batch = dry_run(tmp_path, "d.csv", data, live, platform="dingtalk", presence_percent=85)
    counts = services.apply(actor=org.admin.user, batch=batch)
    assert credited(org.learner, live) == expected
    assert counts["credited" if expected else "too_short"] == 1
    assert Attendance.objects.filter(meeting=live, employee=org.learner).count() == (1 if expected else 0)


def test_the_overlap_meeting_credits_the_time_present(live, org, tmp_path):
    live.credit = Meeting.Credit.OVERLAP
    live.save()
    batch = dry_run(tmp_path, "d.csv", lists.dingtalk([("L", "", "dt_learner", "09:50:00", "10:57:30")]), live,
                    platform="dingtalk")
    services.apply(actor=org.admin.user, batch=batch)
    assert credited(org.learner, live) == 57 * 60 + 30
    attendance = Attendance.objects.get(meeting=live, employee=org.learner)
    assert (attendance.method, attendance.status, attendance.credited_seconds) == ("online", "on_time", 3450)


def test_a_list_imported_twice_credits_once(live, org, tmp_path):
    data = lists.dingtalk([("L", "", "dt_learner", "10:06:00", "11:00:00")])
    first = dry_run(tmp_path, "d.csv", data, live, platform="dingtalk")
    second = dry_run(tmp_path, "d.csv", data, live, platform="dingtalk")
    assert services.apply(actor=org.admin.user, batch=first)["credited"] == 1
    assert services.apply(actor=org.admin.user, batch=second) == {
        "credited": 0, "already": 1, "too_short": 0, "not_on_roster": 0, "skipped": 0}
    assert list(CreditedTime.objects.filter(employee=org.learner).values_list("seconds", "source")) == [
        (3600, "checkin")]
    assert CheckInEvent.objects.filter(meeting=live, kind="online").count() == 1
    assert Attendance.objects.get(meeting=live, employee=org.learner).status == "late"  # 10:06, after 5 minutes
    with pytest.raises(Exception, match="already credited or discarded"):
        services.apply(actor=org.admin.user, batch=second)


def test_people_off_the_roster_are_not_credited(live, org, tmp_path):
    live.roster = Meeting.Roster.PEOPLE
    live.save()
    live.roster_people.set([org.outsider])
    batch = dry_run(tmp_path, "d.csv", lists.dingtalk([("L", "", "dt_learner", "10:00:00", "11:00:00")]), live,
                    platform="dingtalk")
    assert services.apply(actor=org.admin.user, batch=batch)["not_on_roster"] == 1
    assert credited(org.learner, live) == 0


def test_applying_waits_for_every_decision(live, org, tmp_path):
    batch = dry_run(tmp_path, "d.csv", lists.dingtalk([("Nobody known", "", "", "10:00:00", "11:00:00")]), live,
                    platform="dingtalk")
    with pytest.raises(Exception, match="1 participants still need a decision"):
        services.apply(actor=org.admin.user, batch=batch)
    [person] = batch.participants.all()
    services.decide(actor=org.admin.user, participant=person, skip=True)
    assert services.apply(actor=org.admin.user, batch=batch)["skipped"] == 1
    assert CreditedTime.objects.count() == 0


# ---------------------------------------------------------------- pages and bad files

def test_the_review_page_credits_a_row_the_admin_matched(live, org, client_for):
    client = client_for(org.admin)
    online(live, platform="dingtalk")
    data = lists.dingtalk([("Nurse Wang (guest)", "", "", "10:00:00", "11:00:00"),
                           ("L", "", "dt_learner", "10:00:00", "10:20:00")])
    response = upload(client, live, "dingtalk.csv", data)
    batch = ParticipantImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("onlineattendance:review", args=[batch.pk])
    unmatched = batch.participants.get(match="unmatched")
    page = client.get(response["Location"])
    assert b"1 participant still needs a decision." in page.content
    client.post(response["Location"], {f"number-{unmatched.pk}": "E002"})
    unmatched.refresh_from_db()
    assert (unmatched.match, unmatched.employee, unmatched.matched_by) == ("matched", org.outsider, "admin")
    client.post(reverse("onlineattendance:apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.summary == {"credited": 1, "already": 0, "too_short": 1, "not_on_roster": 0, "skipped": 0}
    assert (credited(org.outsider, live), credited(org.learner, live)) == (3600, 0)
    assert AuditEntry.objects.filter(action__in=["import_participants", "match_participant",
                                                 "credit_participants"]).count() == 3


def test_every_error_of_every_row_is_shown_and_nothing_is_written(live, org, client_for):
    data = lists.dingtalk([("", "", "", "10:00:00", "11:00:00"), ("A", "", "", "soon", "11:00:00"),
                           ("B", "", "", "10:30:00", "10:10:00"), ("C", "", "", "", "")])
    response = upload(client_for(org.admin), live, "d.csv", data)
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.context["errors"]] == [
        (2, "name"), (3, "join time"), (4, "leave time"), (5, "join time"), (5, "leave time")]
    assert response.context["errors"][1]["message"] == "“2026-11-20 soon” is not a date and time."
    assert "“2026-11-20 soon” is not a date and time." in response.content.decode()
    assert ParticipantImport.objects.count() == 0 and Participant.objects.count() == 0


@pytest.mark.parametrize(("name", "data", "message"), [
    ("list.txt", b"a,b", "Only .xlsx and .csv files can be imported"),
    ("list.xlsx", b"Name,Join Time\n", "The XLSX file is damaged or not really an XLSX file."),
    ("list.csv", b"PK\x03\x04rest", "This is not a CSV text file."),
    ("list.csv", "姓名,部门,入会时间\n李雷,心内科,2026-11-20 10:00\n".encode(), "No header row with the participants"),
    ("list.csv", "姓名,入会时间,离会时间\n".encode("gb18030"), "The file lists no participants."),
    ("list.csv", b"\xff\xfegarbage\x81\xff", "neither UTF-8 nor GB18030"),
])
def test_bad_files_get_a_clear_error(live, org, client_for, name, data, message):
    response = upload(client_for(org.admin), live, name, data)
    assert response.status_code == 400
    assert message in response.context["file_error"]
    assert ParticipantImport.objects.count() == 0


def test_huge_files_are_refused(live, org, client_for, tmp_path, monkeypatch):
    response = upload(client_for(org.admin), live, "big.csv", b"x" * (formats.MAX_FILE_BYTES + 1))
    assert response.status_code == 400
    assert "larger than 10 MB" in response.content.decode()
    monkeypatch.setattr(formats, "MAX_ROWS", 3)
    data = lists.dingtalk([("L", "", "dt_learner", "10:00:00", "11:00:00")] * 40)
    path = tmp_path / "many.csv"
    path.write_bytes(data)
    with pytest.raises(formats.ParticipantFileError, match="more than 3 rows"):
        formats.read_file(path, "many.csv", SHANGHAI)


def test_who_may_import(live, org, catalog, client_for):
    url = reverse("onlineattendance:meeting", args=[live.pk])
    assert client_for(org.learner).get(url).status_code == 404
    assert client_for(org.auditor).get(url).status_code == 403
    assert client_for(org.admin).get(url).status_code == 200
    offline = Meeting.objects.create(course=catalog.meeting, title="Ward meeting", starts_at=live.starts_at,
                                     ends_at=live.ends_at)
    assert client_for(org.admin).get(reverse("onlineattendance:meeting", args=[offline.pk])).status_code == 404
    response = client_for(org.admin).post(url, {"platform": "feishu", "meeting_number": "123 456 789",
                                                "presence_percent": "90"})
    assert response.status_code == 302
    assert OnlineMeeting.objects.values_list("platform", "meeting_number", "presence_percent").get() == (
        "feishu", "123456789", 90)
    bad = client_for(org.admin).post(url, {"platform": "feishu", "presence_percent": "0"})
    assert bad.status_code == 400


# ---------------------------------------------------------------- Feishu's API

def feishu_join(name, user_id, joined, left, **more):
    return {"participant_name": name, "department": more.get("department", ""), "user_id": user_id,
            "employee_id": more.get("employee_id", ""), "phone": "", "email": "",
            "join_time": f"2026.11.20 {joined} (GMT+08:00)", "leave_time": f"2026.11.20 {left} (GMT+08:00)"}


def test_feishu_participants_are_fetched_in_pages(live, org, client_for, settings):
    online(live, platform="feishu", meeting_number="123456789")
    with fake_meetings.running(settings) as feishu:
        # 150 joins: the learner twice, and 148 guests, over two pages of 100.
        feishu.meetings["123456789"] = [feishu_join("Learner", "fs_learner", "10:00:00", "10:30:00"),
                                        *[feishu_join(f"Guest {n}", f"ou_{n}", "10:00:00", "10:05:00")
                                          for n in range(148)],
                                        feishu_join("Learner", "fs_learner", "10:30:00", "10:58:00")]
        response = client_for(org.admin).post(reverse("onlineattendance:fetch", args=[live.pk]))
    assert response.status_code == 302
    batch = ParticipantImport.objects.get()
    assert (batch.source, batch.row_count, batch.participants.count()) == ("api", 150, 149)
    learner = batch.participants.get(employee=org.learner)
    assert (learner.matched_by, learner.present_seconds, learner.rows) == ("user_id", 58 * 60, [1, 150])
    assert [(q["meeting_no"], q["meeting_start_time"], q["meeting_end_time"], q.get("page_token"))
            for q in feishu.requests] == [("123456789", "1795140000", "1795143600", None),
                                          ("123456789", "1795140000", "1795143600", "100")]


def test_feishu_refusals_are_explained(live, org, client_for, settings):
    online(live, platform="feishu", meeting_number="123456789")
    with fake_meetings.running(settings) as feishu:
        empty = client_for(org.admin).post(reverse("onlineattendance:fetch", args=[live.pk]))
        settings.FEISHU_APP_SECRET = "wrong"
        refused = client_for(org.admin).post(reverse("onlineattendance:fetch", args=[live.pk]))
    assert feishu.requests and empty.status_code == 400
    assert empty.context["file_error"] == "Feishu lists no participants for this meeting number and time."
    assert refused.context["file_error"] == "Feishu refused the app's credentials."
    assert ParticipantImport.objects.count() == 0
