"""A meeting's counts of who checked in and out, kept on the meeting by the database in the
transaction that changes an attendance, and the projector's "still missing" list and counts read
by an anti-join: exact after every path that creates, changes or deletes an attendance."""

import datetime as dt
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_employee
from learntrace.checkin import selectors, services
from learntrace.checkin.counts import install_triggers, recount
from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
from learntrace.checkin.services import IN, OUT

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
MANUAL_IN, MANUAL_OUT, EXCUSED = CheckInEvent.Kind.MANUAL_IN, CheckInEvent.Kind.MANUAL_OUT, CheckInEvent.Kind.EXCUSED


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


@pytest.fixture
def meeting(org, catalog):
    item = Meeting.objects.create(course=catalog.meeting, title="Ward safety briefing", starts_at=START,
                                  ends_at=at(120), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner, org.outsider])
    item.organisers.set([org.head])
    return item


def counted(meeting) -> tuple[int, int]:
    """(present, checked out) as kept on the meeting, after checking them against the attendances."""
    kept = Meeting.objects.values_list("present_count", "checked_out_count").get(pk=meeting.pk)
    actual = Attendance.objects.filter(meeting=meeting).aggregate(
        present=Count("pk", filter=Q(checked_in_at__isnull=False)),
        out=Count("pk", filter=Q(checked_out_at__isnull=False)))
    assert kept == (actual["present"], actual["out"])
    return kept


def scan(meeting, employee, when, mode=IN):
    return services.scan(meeting=meeting, employee=employee, mode=mode, scanned_at=when, via="scan",
                         device_id=f"device-{employee.pk}", now=when)


def manual(meeting, employee, kind, when, actor):
    return services.manual(meeting=meeting, employee=employee, kind=kind, actor=actor, reason="Phone battery empty",
                           at=when, now=when)


def test_every_path_that_changes_an_attendance_keeps_the_counts_exact(org, meeting):
    admin = org.admin.user
    assert counted(meeting) == (0, 0)
    scan(meeting, org.head, at(-5))
    assert counted(meeting) == (1, 0)
    scan(meeting, org.head, at(-4))  # scanning twice is harmless
    assert counted(meeting) == (1, 0)
    manual(meeting, org.learner, EXCUSED, at(-30), admin)  # excused: not present
    assert counted(meeting) == (1, 0)
    scan(meeting, org.learner, at(10))  # came after all
    assert counted(meeting) == (2, 0)
    scan(meeting, org.head, at(100), mode=OUT)
    assert counted(meeting) == (2, 1)
    scan(meeting, org.head, at(101), mode=OUT)  # out twice: once
    assert counted(meeting) == (2, 1)
    manual(meeting, org.outsider, MANUAL_IN, at(3), admin)
    manual(meeting, org.outsider, MANUAL_IN, at(4), admin)  # already in
    manual(meeting, org.outsider, MANUAL_OUT, at(90), admin)
    assert counted(meeting) == (3, 2)
    with pytest.raises(ValidationError):
        manual(meeting, org.outsider, EXCUSED, at(91), admin)  # attended: cannot be excused
    assert counted(meeting) == (3, 2)
    auditor, hr = make_employee("E010", "Visiting nurse", org.hr), make_employee("E011", "Excused first", org.hr)
    services.record_online_presence(meeting=meeting, employee=auditor, first_join=at(0), last_leave=at(60),
                                    seconds=3600, actor=admin, note="Zoom participant list", now=at(200))
    manual(meeting, hr, EXCUSED, at(-30), admin)
    services.record_online_presence(meeting=meeting, employee=hr, first_join=at(5), last_leave=at(50),
                                    seconds=2700, actor=admin, note="Zoom participant list", now=at(200))
    assert counted(meeting) == (5, 4)
    # Corrections by hand (the admin site, a shell): undoing a check-out, a check-in, deleting one.
    Attendance.objects.filter(meeting=meeting, employee=org.head).update(checked_out_at=None)
    assert counted(meeting) == (5, 3)
    Attendance.objects.filter(meeting=meeting, employee=org.outsider).update(checked_in_at=None, checked_out_at=None)
    assert counted(meeting) == (4, 2)
    Attendance.objects.get(meeting=meeting, employee=org.learner).delete()
    assert counted(meeting) == (3, 2)
    Attendance.objects.filter(meeting=meeting).update(credited_seconds=1)  # not a change of presence
    assert counted(meeting) == (3, 2)


def test_an_attendance_moved_or_written_in_bulk_counts_where_it_is(org, meeting, catalog):
    other = Meeting.objects.create(course=catalog.meeting, title="Other", starts_at=START, ends_at=at(60))
    Attendance.objects.bulk_create([
        Attendance(meeting=meeting, employee=person, status="on_time", method="scan", checked_in_at=at(0),
                   checked_out_at=at(60) if n else None)
        for n, person in enumerate((org.head, org.learner, org.outsider))])
    assert counted(meeting) == (3, 2) and counted(other) == (0, 0)
    Attendance.objects.filter(employee=org.learner).update(meeting=other)
    assert counted(meeting) == (2, 1) and counted(other) == (1, 1)
    other.delete()
    assert counted(meeting) == (2, 1)


def test_a_rolled_back_check_in_counts_nothing(org, meeting):
    ghost = get_user_model()(username="ghost")  # never saved: the entry's event cannot be written
    with pytest.raises(ValueError):
        manual(meeting, org.head, MANUAL_IN, at(0), ghost)
    with pytest.raises(RuntimeError), transaction.atomic():
        scan(meeting, org.learner, at(0))
        assert counted(meeting) == (1, 0)  # inside the transaction that checked in
        raise RuntimeError
    assert counted(meeting) == (0, 0)


def test_saving_a_meeting_loaded_before_check_ins_keeps_their_counts(org, meeting):
    stale = Meeting.objects.get(pk=meeting.pk)
    scan(meeting, org.head, at(0))
    stale.title = "Ward safety briefing (room 2)"
    stale.save()
    assert counted(meeting) == (1, 0)
    assert Meeting.objects.get(pk=meeting.pk).title == "Ward safety briefing (room 2)"


def test_triggers_install_again_and_recount_repairs(org, meeting):
    install_triggers()  # after every migrate: idempotent
    scan(meeting, org.head, at(0))
    Meeting.objects.filter(pk=meeting.pk).update(present_count=7, checked_out_count=3)
    recount(Meeting.objects.filter(pk=meeting.pk))
    assert counted(meeting) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_check_ins_at_the_same_moment_are_all_counted(org, catalog):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite takes one writer at a time)")
    meeting = Meeting.objects.create(course=catalog.meeting, title="All hands", starts_at=START, ends_at=at(120),
                                     roster=Meeting.Roster.OPEN)
    people = [make_employee(f"P{n:03d}", f"Person {n}", org.b) for n in range(8)]
    start, failures = threading.Barrier(len(people)), []

    def arrive(person):
        try:
            start.wait()
            scan(meeting, person, at(n := people.index(person)))
            scan(meeting, person, at(60 + n), mode=OUT)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=arrive, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert counted(meeting) == (8, 8)


# ---------------------------------------------------------------- what the projector reads


def test_the_missing_list_and_counts_follow_the_roster(org, meeting, client_for):
    admin = org.admin.user
    inactive = make_employee("E020", "Retired", org.a1)
    inactive.is_active = False
    inactive.save()
    meeting.roster_people.add(inactive)
    scan(meeting, org.head, at(0))
    manual(meeting, org.learner, EXCUSED, at(-30), admin)
    walk_in = make_employee("E021", "Walk-in", org.hr)
    manual(meeting, walk_in, MANUAL_IN, at(10), admin)  # not on the roster: present, not expected; late
    assert selectors.live_counts(Meeting.objects.get(pk=meeting.pk)) == {
        "present": 2, "checked_out": 0, "expected": 3, "missing": 2}  # the excused learner still counts as missing
    lists = selectors.projector_lists(meeting)
    assert lists["missing"] == [org.outsider.name]  # the excused one is not listed
    assert lists["present"] == [{"name": walk_in.name, "late": True}, {"name": org.head.name, "late": False}]
    page = client_for(org.head).get(reverse("checkin:projector_state", args=[meeting.pk])).text
    assert '<strong id="live-count">2</strong>' in page and "2 of the expected still missing" in page
    assert f'<li>{walk_in.name} <span class="badge">late</span></li><li>{org.head.name}</li>' in page
    assert f'<ul class="missing"><li>{org.outsider.name}</li></ul>' in page


def test_the_projector_poll_reads_no_attendance_for_its_counts(org, meeting, client_for):
    scan(meeting, org.head, at(0))
    with CaptureQueriesContext(connection) as queries:
        assert client_for(org.head).get(reverse("checkin:projector_state", args=[meeting.pk])).status_code == 200
    reading = [q["sql"] for q in queries.captured_queries if '"checkin_attendance"' in q["sql"]]
    # For the roster, one pass joined to the meeting's check-ins for its counts and an anti-join for the
    # list of the missing, and the latest arrivals (a page by index): never a count of the attendances.
    assert len(reading) == 3
    [counts] = [sql for sql in reading if "COUNT(" in sql]
    [present] = [sql for sql in reading if "EXISTS" not in sql and "COUNT(" not in sql]
    [missing] = [sql for sql in reading if "NOT (EXISTS" in sql]
    assert 'FROM "org_employee"' in counts
    assert re.search(r'LEFT OUTER JOIN "checkin_attendance" here ON \(\(?"org_employee"\."id" = here\."employee_id"',
                     counts)
    assert 'FROM "checkin_attendance"' in present and "LIMIT 200" in present
    assert 'FROM "org_employee"' in missing and "NOT (EXISTS" in missing
    # The attendances are only looked up, by meeting and person, inside the anti-join.
    assert re.search(r'U0\."employee_id" = \("org_employee"\."id"\) AND U0\."meeting_id" = \d+', missing)
    assert not any(re.search(r'COUNT\([^)]*"checkin_attendance"', sql) for sql in reading)


def test_the_projector_reads_the_roster_again_only_when_a_count_or_the_code_changes(org, meeting, client_for):
    import time_machine

    organiser = client_for(org.head)
    url = reverse("checkin:projector_state", args=[meeting.pk])

    def poll():
        with CaptureQueriesContext(connection) as queries:
            page = organiser.get(url).text
        missing = re.findall(r"<li>([^<]+)</li>", page.split('class="missing"')[1].split("</ul>")[0])
        read = [q["sql"] for q in queries.captured_queries if "checkin_meeting_roster_people" in q["sql"]]
        return page, missing, len(read)

    with time_machine.travel(at(1), tick=False):
        page, missing, read = poll()
        assert read == 2  # the roster's counts and its missing people
        assert "3 of the expected still missing" in page and len(missing) == 3
        assert poll()[1:] == (missing, 0)  # kept: nothing changed
        scan(meeting, org.learner, at(1))
        page, missing, read = poll()  # a check-in moves a count: read again at once
        assert read == 2 and "2 of the expected still missing" in page
        assert missing == [org.head.name, org.outsider.name]
        manual(meeting, org.outsider, EXCUSED, at(1), org.admin.user)
        assert poll()[1:] == (missing, 0)  # an excusal moves no count: kept for the rest of the step
    with time_machine.travel(at(1) + dt.timedelta(seconds=meeting.rotation_seconds), tick=False):
        page, missing, read = poll()
    assert read == 2 and missing == [org.head.name] and '<strong id="live-count">1</strong>' in page
    other = Meeting.objects.create(course=meeting.course, title="Another briefing", starts_at=START, ends_at=at(60),
                                   roster=Meeting.Roster.PEOPLE, rotation_seconds=meeting.rotation_seconds)
    other.roster_people.set([org.learner])
    other.organisers.set([org.head])
    manual(other, org.head, MANUAL_IN, at(1), org.admin.user)  # the same counts as the first meeting
    with time_machine.travel(at(1) + dt.timedelta(seconds=meeting.rotation_seconds), tick=False):
        page = organiser.get(reverse("checkin:projector_state", args=[other.pk])).text
    assert "1 of the expected still missing" in page  # the same counts and step, its own roster


def test_an_open_meeting_has_no_roster_to_read(org, catalog):
    meeting = Meeting.objects.create(course=catalog.meeting, title="Open day", starts_at=START, ends_at=at(60),
                                     roster=Meeting.Roster.OPEN)
    scan(meeting, org.outsider, at(0))
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.live_counts(Meeting.objects.get(pk=meeting.pk))
        lists = selectors.projector_lists(meeting)
    assert counts == {"present": 1, "checked_out": 0, "expected": 0, "missing": 0}
    assert lists == {"missing": [], "present": [{"name": org.outsider.name, "late": False}]}
    assert len(queries.captured_queries) == 2  # the meeting, the latest arrivals


def test_the_code_is_drawn_once_a_step_and_anew_at_the_next(org, meeting, client_for):
    import time_machine

    from learntrace.checkin.views import _qr_svg

    organiser = client_for(org.head)
    url = reverse("checkin:projector_state", args=[meeting.pk])
    step = meeting.rotation_seconds
    moment = dt.datetime.fromtimestamp((int(at(0).timestamp()) // step + 1) * step, tz=dt.UTC)

    def qr():
        page = organiser.get(url).text
        return re.search(r'data-url="([^"]+)">(.*?)</div>', page, re.S).groups()

    _qr_svg.cache_clear()
    with time_machine.travel(moment, tick=False):
        first = qr()
    with time_machine.travel(moment + dt.timedelta(seconds=step - 1), tick=False):
        same = qr()
    with time_machine.travel(moment + dt.timedelta(seconds=step), tick=False):
        next_step = qr()
    assert same == first and next_step[0] != first[0] and next_step[1] != first[1]
    assert _qr_svg.cache_info().misses == 2 and _qr_svg.cache_info().hits == 1
