"""Exact outcomes of check-in: the credited seconds of every way an attendance is made (scans and
manual entries, in and out, once and twice), and the exact edges of every rule (the opening and
closing minute, the late minute, the geofence radius, the largest signature)."""

import base64
import datetime as dt
import hashlib
import hmac
import threading

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import QuerySet

from learntrace.checkin import services
from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
from learntrace.checkin.services import IN, OUT, CheckInRefused
from learntrace.checkin.signals import attendance_recorded
from learntrace.core.models import AuditEntry
from learntrace.records.models import CreditedTime

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
MANUAL_IN, MANUAL_OUT, EXCUSED = CheckInEvent.Kind.MANUAL_IN, CheckInEvent.Kind.MANUAL_OUT, CheckInEvent.Kind.EXCUSED


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


@pytest.fixture
def meeting(org, catalog):
    item = Meeting.objects.create(course=catalog.meeting, title="Ward safety briefing", starts_at=START,
                                  ends_at=START + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner])
    return item


def configure(meeting, **fields):
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save()
    return meeting


def scan(meeting, employee, when, mode=IN, **kwargs):
    return services.scan(meeting=meeting, employee=employee, mode=mode, scanned_at=when, via="scan",
                         device_id=kwargs.pop("device_id", f"device-{employee.pk}"), now=when, **kwargs)


def manual(meeting, employee, kind, when, actor, reason="Phone battery empty"):
    return services.manual(meeting=meeting, employee=employee, actor=actor, reason=reason, kind=kind, at=when,
                           now=when + dt.timedelta(minutes=1))


def refusal(call) -> str:
    with pytest.raises(CheckInRefused) as caught:
        call()
    return caught.value.reason


def credited(employee) -> tuple[int, int]:
    """(number of credited-time facts, their seconds) of a person."""
    seconds = list(CreditedTime.objects.filter(employee=employee).values_list("seconds", flat=True))
    return len(seconds), sum(seconds)


# ---------------------------------------------------------------- credited seconds of every path


def test_scheduled_credit_scan_in_then_out_credits_the_meeting_once(org, meeting):
    assert scan(meeting, org.head, at(-5)).credited_seconds == 7200
    attendance = scan(meeting, org.head, at(100), mode=OUT)
    assert attendance.checked_out_at == at(100) and attendance.credited_seconds == 7200
    assert credited(org.head) == (1, 7200)
    assert scan(meeting, org.head, at(110), mode=OUT).checked_out_at == at(100)  # a second check-out changes nothing
    assert credited(org.head) == (1, 7200)


def test_scheduled_credit_with_check_out_required_credits_at_check_out(org, meeting):
    configure(meeting, checkout_required=True)
    assert scan(meeting, org.head, at(0)).credited_seconds == 0
    assert credited(org.head) == (0, 0)
    assert scan(meeting, org.head, at(30), mode=OUT).credited_seconds == 7200  # the schedule, not the 30 minutes
    assert credited(org.head) == (1, 7200)


def test_overlap_credit_counts_only_the_meeting_time_between_in_and_out(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP, checkout_required=True)
    scan(meeting, org.head, at(10))
    assert scan(meeting, org.head, at(150), mode=OUT).credited_seconds == 110 * 60  # ends at the meeting's end
    scan(meeting, org.learner, at(-10))
    assert scan(meeting, org.learner, at(45.5), mode=OUT).credited_seconds == 45 * 60 + 30
    assert credited(org.head) == (1, 6600) and credited(org.learner) == (1, 2730)


def test_a_check_out_before_the_check_in_moment_is_set_to_the_check_in_and_credits_nothing(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP)
    scan(meeting, org.head, at(10))
    attendance = scan(meeting, org.head, at(5), mode=OUT)
    assert attendance.checked_out_at == at(10) and attendance.credited_seconds == 0
    assert credited(org.head) == (0, 0)


def test_a_check_out_without_a_check_in_is_refused_and_logged(org, meeting):
    assert refusal(lambda: scan(meeting, org.head, at(30), mode=OUT)) == "not_checked_in"
    services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user, reason="Night shift",
                    kind=EXCUSED, now=at(0))
    assert refusal(lambda: scan(meeting, org.learner, at(30), mode=OUT)) == "not_checked_in"
    assert list(CheckInEvent.objects.filter(kind=CheckInEvent.Kind.REFUSED).order_by("pk").values_list(
        "reason", flat=True)) == [
        "not_checked_in", "not_checked_in"]


def test_a_single_second_of_overlap_is_credited(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP)
    scan(meeting, org.head, at(0))
    assert scan(meeting, org.head, at(0) + dt.timedelta(seconds=1), mode=OUT).credited_seconds == 1
    assert credited(org.head) == (1, 1)

def test_manual_in_then_manual_out_on_a_scheduled_meeting_credits_the_meeting_once(org, meeting):
    assert manual(meeting, org.head, MANUAL_IN, at(0), org.admin.user).credited_seconds == 7200
    attendance = manual(meeting, org.head, MANUAL_OUT, at(60), org.admin.user)
    assert attendance.checked_out_at == at(60) and attendance.credited_seconds == 7200
    assert credited(org.head) == (1, 7200)
    assert list(CheckInEvent.objects.filter(employee=org.head).order_by("pk").values_list(
        "kind", "scanned_at", "note")) == [
        (MANUAL_IN, at(0), "Phone battery empty"), (MANUAL_OUT, at(60), "Phone battery empty")]


def test_manual_check_out_credits_the_overlap(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP, checkout_required=True)
    assert manual(meeting, org.head, MANUAL_IN, at(-10), org.admin.user).credited_seconds == 0
    attendance = manual(meeting, org.head, MANUAL_OUT, at(90), org.admin.user)
    assert attendance.checked_out_at == at(90) and attendance.credited_seconds == 90 * 60
    assert credited(org.head) == (1, 5400)


def test_manual_check_out_after_a_scan_credits_the_overlap_once(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP)
    scan(meeting, org.head, at(3))
    attendance = manual(meeting, org.head, MANUAL_OUT, at(63), org.admin.user)
    assert attendance.credited_seconds == 3600
    attendance = manual(meeting, org.head, MANUAL_OUT, at(93), org.admin.user)  # corrected later: only the rest
    assert attendance.checked_out_at == at(93) and attendance.credited_seconds == 5400
    assert sorted(CreditedTime.objects.filter(employee=org.head).values_list("seconds", flat=True)) == [1800, 3600]


def test_a_manual_check_out_before_the_check_in_credits_nothing(org, meeting):
    configure(meeting, credit=Meeting.Credit.OVERLAP)
    manual(meeting, org.head, MANUAL_IN, at(20), org.admin.user)
    attendance = manual(meeting, org.head, MANUAL_OUT, at(10), org.admin.user)
    assert attendance.checked_out_at == at(20) and attendance.credited_seconds == 0


def test_a_manual_check_out_needs_a_check_in_first(org, meeting):
    with pytest.raises(ValidationError) as caught:
        manual(meeting, org.head, MANUAL_OUT, at(60), org.admin.user)
    assert caught.value.messages == ["Check this person in before checking them out."]
    services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user, reason="Night shift",
                    kind=EXCUSED, now=at(0))
    with pytest.raises(ValidationError):
        manual(meeting, org.learner, MANUAL_OUT, at(60), org.admin.user)
    assert not Attendance.objects.filter(employee=org.head).exists()
    assert list(CheckInEvent.objects.values_list("kind", flat=True)) == [EXCUSED]


def test_a_manual_check_in_over_a_scan_keeps_the_scan(org, meeting):
    scanned = scan(meeting, org.head, at(-5))
    attendance = manual(meeting, org.head, MANUAL_IN, at(20), org.admin.user)
    assert attendance.pk == scanned.pk
    assert (attendance.checked_in_at, attendance.method, attendance.status, attendance.note) == (
        at(-5), "scan", Attendance.Status.ON_TIME, "")
    assert attendance.credited_seconds == 7200 and credited(org.head) == (1, 7200)
    assert CheckInEvent.objects.filter(kind=MANUAL_IN, employee=org.head).count() == 1


def test_manual_check_ins_are_on_time_up_to_the_late_minute_and_late_after_it(org, meeting):
    on_time = manual(meeting, org.head, MANUAL_IN, at(5), org.admin.user)
    late = manual(meeting, org.learner, MANUAL_IN, at(5) + MICROSECOND, org.admin.user)
    assert (on_time.status, late.status) == (Attendance.Status.ON_TIME, Attendance.Status.LATE)
    assert (on_time.method, on_time.note, on_time.checked_in_at) == ("manual", "Phone battery empty", at(5))


def test_a_manual_check_in_of_someone_excused_is_late_or_on_time_like_any_other(org, meeting):
    for employee in (org.head, org.learner):
        services.manual(meeting=meeting, employee=employee, actor=org.admin.user, reason="Night shift",
                        kind=EXCUSED, now=at(-30))
    late = manual(meeting, org.head, MANUAL_IN, at(20), org.admin.user, reason="Came after the night shift")
    on_time = manual(meeting, org.learner, MANUAL_IN, at(0), org.admin.user)
    assert (late.status, late.method, late.note, late.checked_in_at) == (
        Attendance.Status.LATE, "manual", "Came after the night shift", at(20))
    assert on_time.status == Attendance.Status.ON_TIME
    assert late.credited_seconds == 7200 and credited(org.head) == (1, 7200)


def test_someone_who_attended_cannot_be_excused_and_an_unknown_kind_is_refused(org, meeting):
    scan(meeting, org.head, at(0))
    with pytest.raises(ValidationError) as caught:
        manual(meeting, org.head, EXCUSED, at(1), org.admin.user)
    assert caught.value.messages == ["This person attended; they cannot be excused."]
    with pytest.raises(ValidationError) as caught:
        manual(meeting, org.learner, "teleported", at(1), org.admin.user)
    assert caught.value.messages == ["Unknown kind of manual entry."]
    assert Attendance.objects.get(employee=org.head).status == Attendance.Status.ON_TIME
    assert not Attendance.objects.filter(employee=org.learner).exists()


def test_excusing_credits_nothing(org, meeting):
    excused = manual(meeting, org.head, EXCUSED, at(0), org.admin.user)
    assert (excused.status, excused.credited_seconds, excused.checked_in_at) == (Attendance.Status.EXCUSED, 0, None)
    assert credited(org.head) == (0, 0)


# ---------------------------------------------------------------- exact edges of the rules


def test_check_in_opens_and_closes_at_the_exact_minute(org, meeting):
    opening, closing = at(-15), at(30)  # the defaults: 15 minutes before, 30 after the start
    assert refusal(lambda: scan(meeting, org.head, opening - MICROSECOND)) == "not_open"
    assert refusal(lambda: scan(meeting, org.learner, closing + MICROSECOND)) == "closed"
    assert scan(meeting, org.head, opening).checked_in_at == opening
    assert scan(meeting, org.learner, closing).checked_in_at == closing


def test_the_window_follows_the_meetings_own_minutes(org, meeting):
    configure(meeting, opens_minutes_before=5, closes_minutes_after=10, late_after_minutes=0)
    assert refusal(lambda: scan(meeting, org.head, at(-5) - MICROSECOND)) == "not_open"
    assert refusal(lambda: scan(meeting, org.head, at(10) + MICROSECOND)) == "closed"
    assert scan(meeting, org.head, at(0)).status == Attendance.Status.ON_TIME
    assert scan(meeting, org.learner, at(0) + MICROSECOND).status == Attendance.Status.LATE


def test_a_scan_is_late_after_the_late_minute_and_not_at_it(org, meeting):
    assert scan(meeting, org.head, at(5)).status == Attendance.Status.ON_TIME
    assert scan(meeting, org.learner, at(5) + MICROSECOND).status == Attendance.Status.LATE


# On the equator, 0.0017986432118374611 degrees of longitude from (0, 0) is exactly 200.0 m by distance_m.
EXACTLY_200_M = 0.0017986432118374611


def test_the_geofence_admits_exactly_its_radius_and_not_a_hair_more(org, meeting):
    configure(meeting, latitude=0.0, longitude=0.0, radius_m=200)
    assert services.distance_m(0.0, 0.0, 0.0, EXACTLY_200_M) == 200.0
    beyond = EXACTLY_200_M * 1.000001
    assert refusal(lambda: scan(meeting, org.learner, at(0), latitude=0.0, longitude=beyond)) == "outside_geofence"
    assert scan(meeting, org.head, at(0), latitude=0.0, longitude=EXACTLY_200_M).checked_in_at == at(0)


def test_distances_are_great_circle_metres():
    assert round(services.distance_m(31.2304, 121.4737, 39.9042, 116.4074), 3) == 1067310.171  # Shanghai-Beijing
    assert services.distance_m(31.2304, 121.4737, 31.2304, 121.4737) == 0.0


@pytest.mark.parametrize("fields", [
    {"latitude": 31.2304, "longitude": 121.4737, "radius_m": None},
    {"latitude": 31.2304, "longitude": None, "radius_m": 200},
    {"latitude": None, "longitude": 121.4737, "radius_m": 200},
    {"latitude": 31.2304, "longitude": 121.4737, "radius_m": 0},
])
def test_a_half_configured_geofence_asks_for_no_location(org, meeting, fields):
    configure(meeting, **fields)
    assert scan(meeting, org.head, at(0)).checked_in_at == at(0)
    assert scan(meeting, org.learner, at(0), latitude=0.0, longitude=0.0).checked_in_at == at(0)


def test_a_location_is_needed_when_either_coordinate_is_missing(org, meeting):
    configure(meeting, latitude=31.2304, longitude=121.4737, radius_m=200)
    assert refusal(lambda: scan(meeting, org.head, at(0), latitude=31.2304)) == "location_needed"
    assert refusal(lambda: scan(meeting, org.head, at(0), longitude=121.4737)) == "location_needed"
    assert scan(meeting, org.head, at(0), latitude=31.2304, longitude=121.4737).checked_in_at == at(0)


def test_networks_are_read_from_lines_and_commas(org, meeting):
    configure(meeting, allowed_networks="10.8.0.0/16, 192.168.5.7\n\n  2001:db8::/32  ")
    assert [str(n) for n in services.networks(meeting)] == ["10.8.0.0/16", "192.168.5.7/32", "2001:db8::/32"]
    assert refusal(lambda: scan(meeting, org.head, at(0), ip="192.168.5.8")) == "wrong_network"
    assert refusal(lambda: scan(meeting, org.head, at(0), ip="")) == "wrong_network"
    assert scan(meeting, org.head, at(0), ip="2001:db8::1").checked_in_at == at(0)


def signature_of_length(length: int) -> str:
    """A valid PNG data URL of exactly `length` characters (base64 comes in fours: length - 22 must be one)."""
    encoded_length = length - len(services.SIGNATURE_PREFIX)
    assert encoded_length % 4 == 0
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * (encoded_length // 4 * 3 - 8)
    return services.SIGNATURE_PREFIX + base64.b64encode(png).decode()


def test_the_largest_signature_that_fits_is_accepted_and_the_next_is_refused(org, meeting):
    configure(meeting, signature_required=True)
    # A data URL of exactly MAX_SIGNATURE_BYTES (300 000) characters cannot be valid base64 after its
    # 22-character prefix, so the largest that can be accepted is 299 998 characters, the next 300 002.
    largest, too_large = signature_of_length(299_998), signature_of_length(300_002)
    assert services.MAX_SIGNATURE_BYTES == 300_000
    assert refusal(lambda: scan(meeting, org.learner, at(0), signature=too_large)) == "signature_needed"
    assert scan(meeting, org.head, at(0), signature=largest).signature == largest


def test_a_signature_must_be_base64_of_a_png(org, meeting):
    configure(meeting, signature_required=True)
    not_base64 = services.SIGNATURE_PREFIX + "iVBORw0KGgo*"
    jpeg = services.SIGNATURE_PREFIX + base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 8).decode()
    png_as_jpeg = "data:image/jpeg;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    for signature in (not_base64, jpeg, "", png_as_jpeg):
        assert refusal(lambda signature=signature: scan(meeting, org.head, at(0), signature=signature)) == (
            "signature_needed")
    assert not Attendance.objects.filter(employee=org.head).exists()


def test_no_signature_is_kept_when_none_is_required(org, meeting):
    png = services.SIGNATURE_PREFIX + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    assert scan(meeting, org.head, at(0), signature=png).signature == ""


# ---------------------------------------------------------------- the code, the ticket, the roster


def test_the_screen_shows_the_code_of_its_mode_and_the_seconds_it_has_left(meeting):
    def reference(step, mode):
        digest = hmac.new(meeting.secret.encode(), f"{meeting.pk}:{mode}:{step}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower(), f"{int.from_bytes(digest[10:14], 'big') % 1_000_000:06d}"

    moment = START + dt.timedelta(seconds=3.7)  # START is on a step boundary of 10 s
    step = int(START.timestamp()) // 10
    assert services.step_at(meeting, moment) == step
    token, code = reference(step, "in")
    assert services.current_codes(meeting, moment) == {"mode": IN, "token": token, "code": code, "seconds_left": 7}
    configure(meeting, checkout_open=True, rotation_seconds=30)
    step = int(START.timestamp()) // 30
    token, code = reference(step, "out")
    assert services.current_codes(meeting, moment) == {"mode": OUT, "token": token, "code": code, "seconds_left": 27}


def test_codes_of_the_last_hour_are_expired_and_older_ones_invalid(meeting):
    step = services.step_at(meeting, START)
    judged = {}
    for offset in (-1, -2, -361, -362, 1):
        for typed, make in ((False, services.token), (True, services.short_code)):
            for mode in (IN, OUT):
                try:
                    judged[offset, typed, mode] = services.judge_scan(meeting, make(meeting, step + offset, mode),
                                                                      START, typed=typed, detail=True)
                except CheckInRefused as refused:
                    judged[offset, typed, mode] = refused.reason
    assert judged == {
        **{(-1, typed, mode): (mode, True) for typed in (False, True) for mode in (IN, OUT)},
        **{(offset, typed, mode): "expired" for offset in (-2, -361) for typed in (False, True) for mode in (IN, OUT)},
        **{(offset, typed, mode): "invalid" for offset in (-362, 1) for typed in (False, True) for mode in (IN, OUT)},
    }
    assert services.judge_scan(meeting, services.token(meeting, step).upper() + " ", START, detail=True) == (IN, False)


def test_a_scan_can_be_confirmed_for_exactly_ten_minutes(meeting):
    secret = services.new_browser_secret()
    key = services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(0), via="scan", browser_secret=secret)
    assert services.open_ticket(key=key, browser_secret=secret, now=at(10)).scanned_at == at(0)
    assert refusal(lambda: services.open_ticket(key=key, browser_secret=secret, now=at(10) + MICROSECOND)) == (
        "stale_scan")
    assert refusal(lambda: services.open_ticket(key=key[:-1], browser_secret=secret, now=at(1))) == "invalid"
    assert refusal(lambda: services.open_ticket(key=key, browser_secret=secret[:-1], now=at(1))) == "other_browser"
    assert refusal(lambda: services.open_ticket(key=key, browser_secret=None, now=at(1))) == "other_browser"
    assert services.valid_browser_secret(secret) and not services.valid_browser_secret(secret + "A")


def test_tickets_are_forgotten_a_day_after_their_scan_and_not_before(meeting):
    for minutes in (0, 0.5):
        services.issue_ticket(meeting=meeting, mode=IN, scanned_at=at(minutes), via="scan",
                              browser_secret=services.new_browser_secret())
    assert services.forget_old_tickets(now=at(24 * 60)) == 0
    assert services.forget_old_tickets(now=at(24 * 60) + MICROSECOND) == 1
    assert services.forget_old_tickets(now=at(24 * 60 + 0.5) + MICROSECOND) == 1


def test_long_reasons_and_device_ids_are_kept_to_their_columns(org, meeting):
    reason = "r" * 299 + "学" + "x" * 100
    attendance = manual(meeting, org.head, MANUAL_IN, at(0), org.admin.user, reason=reason)
    assert attendance.note == reason[:300]
    assert CheckInEvent.objects.get(kind=MANUAL_IN).note == reason[:300]
    assert manual(meeting, org.learner, EXCUSED, at(-20), org.admin.user, reason=reason).note == reason[:300]
    arrived = manual(meeting, org.learner, MANUAL_IN, at(1), org.admin.user, reason="x" * 299 + "yz")
    assert Attendance.objects.get(pk=arrived.pk).note == "x" * 299 + "y"
    assert refusal(lambda: scan(meeting, org.outsider, at(0), device_id="d" * 63 + "e" * 20)) == "not_on_roster"
    assert CheckInEvent.objects.get(kind=CheckInEvent.Kind.REFUSED).device_id == "d" * 63 + "e"


def test_inactive_people_and_a_plan_roster_without_a_plan_check_no_one_in(org, meeting):
    org.learner.is_active = False
    org.learner.save()
    assert refusal(lambda: scan(meeting, org.learner, at(0))) == "not_on_roster"
    assert list(services.roster(meeting)) == [org.head]
    configure(meeting, roster=Meeting.Roster.OPEN)
    assert refusal(lambda: scan(meeting, org.learner, at(0))) == "not_on_roster"
    assert list(services.roster(meeting)) == []
    configure(meeting, roster=Meeting.Roster.PLAN, roster_plan=None)
    assert refusal(lambda: scan(meeting, org.head, at(0))) == "not_on_roster"
    assert list(services.roster(meeting)) == []


def test_phones_without_an_id_are_not_counted_as_one_phone(org, meeting):
    assert scan(meeting, org.head, at(0), device_id="").device_id == ""
    assert scan(meeting, org.learner, at(0), device_id="").device_id == ""


def test_a_check_in_with_the_code_that_had_just_changed_is_noted(org, meeting):
    scan(meeting, org.head, at(0), previous_code=True)
    scan(meeting, org.learner, at(0))
    assert dict(CheckInEvent.objects.values_list("employee_id", "note")) == {org.head.pk: "previous_code",
                                                                             org.learner.pk: ""}


def test_a_lockout_says_how_many_whole_minutes_are_left(meeting):
    with time_machine.travel(START, tick=False):
        def message(seconds):
            return CheckInRefused("code_locked", until=START + dt.timedelta(seconds=seconds)).message

        assert message(90).startswith("Too many wrong codes: you can type a code again in 2 minutes.")
        assert message(120).startswith("Too many wrong codes: you can type a code again in 2 minutes.")
        assert message(121).startswith("Too many wrong codes: you can type a code again in 3 minutes.")
        assert message(10).startswith("Too many wrong codes: you can type a code again in 1 minute.")
        assert message(-30).startswith("Too many wrong codes: you can type a code again in 1 minute.")
        assert CheckInRefused("code_locked").message == (
            "Too many wrong codes typed: typing a code was locked for a while.")
        assert CheckInRefused("closed", until=START).message == "Check-in for this meeting has closed."


def test_someone_excused_who_comes_after_all_is_checked_in_by_their_scan(org, meeting):
    manual(meeting, org.head, EXCUSED, at(-30), org.admin.user, reason="Night shift")
    attendance = scan(meeting, org.head, at(8), device_id="phone-7")
    assert (attendance.status, attendance.checked_in_at, attendance.method, attendance.device_id, attendance.note) == (
        Attendance.Status.LATE, at(8), "scan", "phone-7", "Night shift")
    assert attendance.credited_seconds == 7200 and credited(org.head) == (1, 7200)
    assert list(CheckInEvent.objects.filter(employee=org.head).order_by("pk").values_list("kind", flat=True)) == [
        EXCUSED, CheckInEvent.Kind.CHECK_IN]
    assert scan(meeting, org.head, at(9), device_id="phone-7").checked_in_at == at(8)
    assert credited(org.head) == (1, 7200)


def test_events_are_dated_when_they_are_recorded_and_keep_the_moment_of_the_scan(org, meeting):
    scan(meeting, org.head, at(0))  # recorded at the moment of the scan
    services.scan(meeting=meeting, employee=org.learner, mode=IN, scanned_at=at(1), via="scan", device_id="p2",
                  now=at(4))
    assert list(CheckInEvent.objects.order_by("pk").values_list("at", "scanned_at")) == [(at(0), at(0)),
                                                                                         (at(4), at(1))]


def test_a_plans_roster_is_its_audience(org, meeting):
    from learntrace.org.models import Level
    from learntrace.plans.models import LearningPlan, PeriodType, PlanDepartment

    plan = LearningPlan.objects.create(name="Heads' briefings", period_type=PeriodType.MONTHLY,
                                       starts_on=dt.date(2026, 1, 1), due_day=25,
                                       audience_levels=[Level.DEPARTMENT_HEAD], min_total_seconds=3600)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    configure(meeting, roster=Meeting.Roster.PLAN, roster_plan=plan)
    assert list(services.roster(meeting)) == [org.head]
    assert refusal(lambda: scan(meeting, org.learner, at(0))) == "not_on_roster"
    assert scan(meeting, org.head, at(0)).checked_in_at == at(0)


# ---------------------------------------------------------------- what is kept, sent and undone


def test_a_network_written_with_its_host_bits_is_read_as_its_network(org, meeting):
    configure(meeting, allowed_networks="10.8.3.4/16")  # the meeting form accepts it as 10.8.0.0/16
    assert [str(network) for network in services.networks(meeting)] == ["10.8.0.0/16"]
    assert scan(meeting, org.head, at(0), ip="10.8.200.1").checked_in_at == at(0)


def test_a_signature_with_a_character_outside_base64_is_refused(org, meeting):
    configure(meeting, signature_required=True)
    stray = services.SIGNATURE_PREFIX + "iVBO*Rw0KGgo="  # a PNG's first eight bytes, with a "*" in the middle
    assert services.signature_png(stray.replace("*", "")) == b"\x89PNG\r\n\x1a\n"
    assert services.signature_png(stray) is None
    assert refusal(lambda: scan(meeting, org.head, at(0), signature=stray)) == "signature_needed"


def test_a_refusal_keeps_the_address_it_came_from_and_none_without_one(org, meeting):
    configure(meeting, allowed_networks="10.8.0.0/16")
    assert refusal(lambda: scan(meeting, org.head, at(0), ip="172.16.0.9")) == "wrong_network"
    assert refusal(lambda: scan(meeting, org.learner, at(0), ip="")) == "wrong_network"
    assert list(CheckInEvent.objects.order_by("pk").values_list("employee", "ip")) == [
        (org.head.pk, "172.16.0.9"), (org.learner.pk, None)]


def test_what_was_recorded_is_announced_and_a_refusal_is_not(org, meeting):
    received = []

    def receiver(sender, event, **kwargs):
        received.append((event.kind, event.employee_id))

    attendance_recorded.connect(receiver, dispatch_uid="test_checkin_exact")
    try:
        scan(meeting, org.head, at(0))
        assert refusal(lambda: scan(meeting, org.outsider, at(0))) == "not_on_roster"
        manual(meeting, org.learner, EXCUSED, at(0), org.admin.user)
    finally:
        attendance_recorded.disconnect(dispatch_uid="test_checkin_exact")
    assert received == [(CheckInEvent.Kind.CHECK_IN, org.head.pk), (EXCUSED, org.learner.pk)]


def test_manual_events_are_dated_when_they_are_recorded_and_keep_the_moment_given(org, meeting):
    manual(meeting, org.head, MANUAL_IN, at(2), org.admin.user)  # recorded a minute later
    assert list(CheckInEvent.objects.values_list("at", "scanned_at")) == [(at(3), at(2))]


def test_opening_and_closing_check_out_is_audited(org, meeting):
    services.set_checkout(actor=org.admin.user, meeting=meeting, checkout_open=True)
    assert Meeting.objects.get(pk=meeting.pk).checkout_open is True
    services.set_checkout(actor=org.admin.user, meeting=meeting, checkout_open=False)
    assert Meeting.objects.get(pk=meeting.pk).checkout_open is False
    assert list(AuditEntry.objects.filter(object_type="meeting").order_by("pk").values_list(
        "action", "object_id", "summary", "actor")) == [
        ("open_checkout", str(meeting.pk), "Ward safety briefing", org.admin.user.pk),
        ("close_checkout", str(meeting.pk), "Ward safety briefing", org.admin.user.pk)]


def test_an_entry_whose_record_cannot_be_written_changes_nothing(org, meeting):
    """A write that fails half-way (here: the actor was never saved, so its event or audit entry
    cannot be) leaves no attendance, credit or open check-out behind."""
    ghost = get_user_model()(username="ghost")
    with pytest.raises(ValueError):
        services.set_checkout(actor=ghost, meeting=meeting, checkout_open=True)
    with pytest.raises(ValueError):
        manual(meeting, org.head, MANUAL_IN, at(0), ghost)
    with pytest.raises(ValueError):
        services.record_online_presence(meeting=meeting, employee=org.learner, first_join=at(0), last_leave=at(60),
                                        seconds=3600, actor=ghost, note="Zoom participant list", now=at(200))
    assert Meeting.objects.get(pk=meeting.pk).checkout_open is False
    assert not Attendance.objects.exists() and not CheckInEvent.objects.exists()
    assert credited(org.head) == (0, 0) and credited(org.learner) == (0, 0)


# ---------------------------------------------------------------- a meeting platform's participant list


def online(meeting, employee, first_join, last_leave, seconds, actor, now):
    return services.record_online_presence(meeting=meeting, employee=employee, first_join=first_join,
                                           last_leave=last_leave, seconds=seconds, actor=actor,
                                           note="Zoom participant list", now=now)


def test_a_participant_list_credits_each_second_once_however_often_it_is_imported(org, meeting):
    admin = org.admin.user
    assert online(meeting, org.head, at(5), at(95), 5400, admin, now=at(200)) == 5400
    assert online(meeting, org.head, at(5), at(95), 5400, admin, now=at(210)) == 0  # the same list again
    assert online(meeting, org.head, at(7), at(105), 6000, admin, now=at(220)) == 600  # a longer one: the rest
    assert online(meeting, org.head, at(9), at(60), 3300, admin, now=at(230)) == 0  # a shorter one: nothing
    attendance = Attendance.objects.get(employee=org.head)
    # The first list checks the person in and out; later lists only credit what is still owed.
    assert (attendance.checked_in_at, attendance.checked_out_at, attendance.method, attendance.status,
            attendance.credited_seconds) == (at(5), at(95), Attendance.Method.ONLINE, Attendance.Status.ON_TIME, 6000)
    assert sorted(CreditedTime.objects.filter(employee=org.head).values_list("seconds", flat=True)) == [600, 5400]
    assert list(CheckInEvent.objects.order_by("pk").values_list("kind", "at", "scanned_at", "note", "actor")) == [
        (CheckInEvent.Kind.ONLINE, at(200), at(5), "Zoom participant list", admin.pk),
        (CheckInEvent.Kind.ONLINE, at(220), at(7), "Zoom participant list", admin.pk)]


def test_a_participant_list_is_late_after_the_late_minute_and_checks_in_someone_excused(org, meeting):
    admin = org.admin.user
    manual(meeting, org.learner, EXCUSED, at(-30), admin, reason="Night shift")
    assert online(meeting, org.head, at(5), at(60), 3300, admin, now=at(200)) == 3300
    assert online(meeting, org.learner, at(5) + MICROSECOND, at(61), 3360, admin, now=at(200)) == 3360
    head, learner = Attendance.objects.get(employee=org.head), Attendance.objects.get(employee=org.learner)
    assert head.status == Attendance.Status.ON_TIME
    assert (learner.status, learner.checked_in_at, learner.checked_out_at, learner.method, learner.note,
            learner.credited_seconds) == (Attendance.Status.LATE, at(5) + MICROSECOND, at(61),
                                          Attendance.Method.ONLINE, "Night shift", 3360)
    assert credited(org.head) == (1, 3300) and credited(org.learner) == (1, 3360)


# ---------------------------------------------------------------- two tabs of one person at once


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer in at a time: no race to lose")
@pytest.mark.django_db(transaction=True)
def test_two_tabs_scanning_at_the_same_moment_check_the_person_in_once(org, meeting, monkeypatch):
    """Both tabs find no attendance, then both insert one: the second waits for the first's commit,
    runs into the unique (meeting, person) and returns the first's attendance."""
    both_looked, real_create = threading.Barrier(2, timeout=60), QuerySet.create

    def create(queryset, **fields):
        if queryset.model is Attendance:
            both_looked.wait()
        return real_create(queryset, **fields)

    monkeypatch.setattr(QuerySet, "create", create)
    results, errors = [], []

    def tab():
        try:
            results.append(scan(meeting, org.head, at(-5)).pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    tabs = [threading.Thread(target=tab) for _ in range(2)]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join()
    assert errors == []
    attendance = Attendance.objects.get()
    assert results == [attendance.pk, attendance.pk]
    assert attendance.checked_in_at == at(-5) and attendance.credited_seconds == 7200
    assert CheckInEvent.objects.filter(kind=CheckInEvent.Kind.CHECK_IN).count() == 1
    assert credited(org.head) == (1, 7200)
