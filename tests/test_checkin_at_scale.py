"""Meetings with many check-ins: suspicions found by the database and scoped before reading, a
projector poll and lists whose queries do not grow with who is present, and signatures read only
one at a time, as an image."""

import base64
import datetime as dt
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_employee
from learntrace.checkin.models import PREVIOUS_CODE, Attendance, CheckInEvent, Meeting
from learntrace.checkin.suspicions import flags
from learntrace.reports.selectors import Scope, anomalies
from test_checkin import PNG

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
LATER = START + dt.timedelta(days=1)
SIGNATURE_COLUMN = re.compile(r'"checkin_attendance"\."signature"\s*(,|FROM)')


@pytest.fixture
def meeting(org, catalog):
    item = Meeting.objects.create(course=catalog.meeting, title="Quarterly all-hands", starts_at=START,
                                  ends_at=START + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner, org.outsider])
    item.organisers.set([org.head])
    return item


def check_in_event(*, meeting, employee, at, ip=None, device_id="", note=""):
    """A check-in event as the check-in service writes it, flagged for the suspicions it closes."""
    return CheckInEvent.objects.create(
        meeting=meeting, employee=employee, kind=CheckInEvent.Kind.CHECK_IN, at=at, ip=ip, device_id=device_id,
        note=note, **flags(meeting=meeting, employee=employee, at=at, ip=ip, device_id=device_id))


def arrive(meeting, person, seconds, ip, note=""):
    when = START + dt.timedelta(seconds=seconds)
    check_in_event(meeting=meeting, employee=person, at=when, ip=ip, note=note)
    return Attendance.objects.create(meeting=meeting, employee=person, status="on_time", checked_in_at=when,
                                     method="scan", signature=PNG)


def crowd(meeting, department, count, first=0, ip_of=lambda n: f"10.9.{n // 200}.{n % 200 + 1}"):
    people = [make_employee(f"C{first + n:05d}", f"Crowd {first + n}", department) for n in range(count)]
    for n, person in enumerate(people):
        arrive(meeting, person, 600 + 7 * (first + n), ip_of(first + n))
    return people


def suspicions(scope):
    with time_machine.travel(LATER, tick=False):
        found = anomalies(scope)
        return {**found, "refusals": list(found["refusals"])}  # all of them are read as they are written out


def test_a_burst_is_five_check_ins_from_one_address_within_thirty_seconds(org, meeting):
    surgeons = [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(6)]
    for n, person in enumerate(surgeons[:5]):
        arrive(meeting, person, 6 * n, "10.0.0.7")  # five within 24 s
    arrive(meeting, surgeons[5], 300, "10.0.0.7")
    for n, person in enumerate((org.learner, org.head)):
        arrive(meeting, person, 31 * n, "10.0.0.8")  # two: not a burst
    [burst] = suspicions(Scope(everyone=True))["bursts"]
    assert (burst["ip"], burst["meeting"], burst["count"], burst["first"]) == ("10.0.0.7", meeting, 5, START)
    assert burst["people"] == surgeons[:5]


def test_four_within_thirty_seconds_or_five_over_thirty_one_are_no_burst(org, meeting):
    people = [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(9)]
    for n, person in enumerate(people[:4]):
        arrive(meeting, person, n, "10.0.0.7")
    for n, person in enumerate(people[4:]):
        arrive(meeting, person, 100 + 7.75 * n, "10.0.0.9")  # the fifth 31 s after the first
    assert suspicions(Scope(everyone=True))["bursts"] == []


def test_a_head_sees_the_bursts_and_late_codes_of_their_people_only(org, meeting):
    for n, person in enumerate([org.learner] + [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(4)]):
        arrive(meeting, person, n, "10.0.0.7")  # the learner (cardiology) and four surgeons
    for n, person in enumerate(make_employee(f"T{n}", f"Theatre {n}", org.b) for n in range(5)):
        arrive(meeting, person, 200 + n, "10.0.0.8")  # surgeons only
    for n, person in enumerate(make_employee(f"R{n}", f"Room {n}", org.b) for n in range(3)):
        arrive(meeting, person, 400 + 60 * n, f"10.1.2.{n + 10}")
    arrive(meeting, org.head, 700, "183.3.4.5", note=PREVIOUS_CODE)  # a photo of the screen sent home
    arrive(meeting, org.outsider, 701, "183.3.4.6", note=PREVIOUS_CODE)
    head = Scope(everyone=False, paths=(org.a.path,))
    found = suspicions(head)
    assert [(b["ip"], b["people"]) for b in found["bursts"]] == [("10.0.0.7", [org.learner])]
    assert [e.employee for e in found["late_codes"]] == [org.head]
    assert found["devices"] == []
    everyone = suspicions(Scope(everyone=True))
    assert [b["ip"] for b in everyone["bursts"]] == ["10.0.0.8", "10.0.0.7"]  # latest first
    assert [e.employee for e in everyone["late_codes"]] == [org.outsider, org.head]


def test_the_dashboard_costs_the_same_queries_with_ten_times_the_check_ins(org, meeting, client_for):
    crowd(meeting, org.a1, 12, ip_of=lambda n: "10.0.0.7")
    head = client_for(org.head)
    url = reverse("reports:dashboard")
    with time_machine.travel(LATER, tick=False):
        with CaptureQueriesContext(connection) as few:
            assert head.get(url).status_code == 200
    crowd(meeting, org.a1, 120, first=12, ip_of=lambda n: "10.0.0.7" if n % 2 else f"10.0.1.{n}")
    with time_machine.travel(LATER, tick=False):
        with CaptureQueriesContext(connection) as many:
            page = head.get(url).text
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "Crowd 0," in page  # the burst, named


def test_the_projector_poll_costs_the_same_queries_and_never_reads_signatures(org, meeting, client_for):
    arrive(meeting, org.learner, 0, "10.0.0.1")
    organiser = client_for(org.head)
    url = reverse("checkin:projector_state", args=[meeting.pk])
    with CaptureQueriesContext(connection) as few:
        assert organiser.get(url).status_code == 200
    crowd(meeting, org.a1, 80)
    with CaptureQueriesContext(connection) as many:
        page = organiser.get(url).text
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not any(SIGNATURE_COLUMN.search(query["sql"]) for query in many.captured_queries)
    present = re.findall(r"<li>([^<]+)</li>", page.split('class="present"')[1].split("</ul>")[0])
    assert present[:2] == ["Crowd 79", "Crowd 78"]  # the latest arrivals first
    assert len(present) == 81
    assert re.findall(r"<li>([^<]+)</li>", page.split('class="missing"')[1].split("</ul>")[0]) == [
        org.head.name, org.outsider.name]
    assert '<strong id="live-count">81</strong>' in page


def test_the_attendance_list_links_each_signature_instead_of_reading_it(org, meeting, client_for):
    signed = arrive(meeting, org.learner, 0, "10.0.0.1")
    unsigned = Attendance.objects.create(meeting=meeting, employee=org.outsider, status="late", method="manual",
                                         checked_in_at=START)
    organiser = client_for(org.head)
    with CaptureQueriesContext(connection) as queries:
        page = organiser.get(reverse("checkin:meeting", args=[meeting.pk])).text
    assert not any(SIGNATURE_COLUMN.search(query["sql"]) for query in queries.captured_queries)
    image = reverse("checkin:signature", args=[meeting.pk, signed.pk])
    assert page.count('class="signature"') == 1 and f'src="{image}"' in page
    response = organiser.get(image)
    assert response["Content-Type"] == "image/png"
    assert response.content == base64.b64decode(PNG.split(",", 1)[1])
    assert organiser.get(reverse("checkin:signature", args=[meeting.pk, unsigned.pk])).status_code == 404
    # Someone who may not see the meeting learns nothing about it.
    assert client_for(org.learner).get(image).status_code == 404


def test_the_room_is_the_network_most_check_ins_came_from_counted_by_network_not_address(org, meeting):
    from learntrace.checkin.selectors import _network

    # Forty people from forty addresses of one /24 (the room), a late code from home, and addresses the
    # database and Python must name alike: IPv6, IPv4 inside IPv6.
    crowd(meeting, org.b, 40, ip_of=lambda n: f"10.20.30.{n + 1}")
    arrive(meeting, org.learner, 900, "2001:db8:7:1::5")
    arrive(meeting, org.outsider, 901, "::ffff:10.20.31.9")
    arrive(meeting, org.head, 902, "183.3.4.5", note=PREVIOUS_CODE)
    with CaptureQueriesContext(connection) as queries:
        found = suspicions(Scope(everyone=True))
    assert [e.employee for e in found["late_codes"]] == [org.head]
    if connection.vendor == "postgresql":
        from learntrace.checkin.selectors import _NETWORK_SQL

        # One row per network, named by the database as `_network` names it.
        [counting] = [q["sql"] for q in queries.captured_queries if "set_masklen" in q["sql"]]
        assert "GROUP BY" in counting
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT host(ip), {_NETWORK_SQL} FROM checkin_checkinevent ORDER BY id")
            rows = [(ip, str(network)) for ip, network in cursor.fetchall()]
        assert [network for _ip, network in rows] == [_network(ip) for ip, _network_sql in rows]
        assert {network for _ip, network in rows} == {"10.20.30.0/24", "2001:db8:7::/48", "::/48", "183.3.4.0/24"}


def test_check_ins_have_an_index_for_the_same_address_at_the_same_meeting(db):
    # A head's dashboard asks, for each check-in of 30 days, whether one of their people checked in
    # from the same address at the same meeting; without this index PostgreSQL read the whole meeting
    # for each check-in (21 s of database CPU with 22 000 check-ins).
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CheckInEvent._meta.db_table)
    assert found["checkin_event_address"]["columns"] == ["meeting_id", "ip", "at"]
    assert found["checkin_event_address"]["index"]


def test_check_ins_have_an_index_for_one_kind_over_a_span_of_time(db):
    # Every suspicion reads one kind of event (check-ins, refusals) of the last 30 days: without it a
    # year of events was read for a month's (1.3× the admin dashboard's CPU, 1.6 to 2× the suspicions
    # page's: BENCHMARKS.md).
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CheckInEvent._meta.db_table)
    assert found["checkin_event_kind_at"]["columns"] == ["kind", "at"]
    assert found["checkin_event_kind_at"]["index"]


def suspect(meeting, people, first_second, ip, device_id=""):
    """Check-ins three seconds apart from one address (five make a burst), with a device if given."""
    for n, person in enumerate(people):
        check_in_event(meeting=meeting, employee=person, at=START + dt.timedelta(seconds=first_second + 3 * n), ip=ip,
                       device_id=device_id)


def test_the_dashboard_counts_every_suspicion_and_lists_the_latest_five(org, meeting, client_for):
    people = [make_employee(f"S{n:03d}", f"Surgeon {n}", org.b) for n in range(40)]
    for burst in range(7):  # seven addresses, each with five check-ins within 12 s
        suspect(meeting, people[5 * burst:5 * burst + 5], 600 * burst, f"10.0.7.{burst + 1}")
    for device in range(6):  # six phones, each checking in three people (one at each of three meetings)
        for n, person in enumerate(people[device * 3:device * 3 + 3]):
            check_in_event(meeting=meeting, employee=person, at=START + dt.timedelta(seconds=5000 + 60 * n),
                           device_id=f"phone-{device}")
    for room in range(20):
        arrive(meeting, people[room], 6000 + room, f"10.20.30.{room + 1}")
    for late in range(6):  # the previous code, from home
        arrive(meeting, people[30 + late], 7000 + 60 * late, f"183.3.{late}.5", note=PREVIOUS_CODE)
    for n in range(8):
        CheckInEvent.objects.create(meeting=meeting, employee=people[n], kind=CheckInEvent.Kind.REFUSED,
                                    at=START + dt.timedelta(seconds=8000 + n), reason="device_used")
    everyone = Scope(everyone=True)
    full = suspicions(everyone)
    with time_machine.travel(LATER, tick=False):
        digest = anomalies(everyone, shown=5)
    lengths = {kind: len(full[kind]) for kind in ("bursts", "late_codes", "devices", "refusals")}
    assert lengths == {"bursts": 7, "late_codes": 6, "devices": 6, "refusals": 8}
    assert digest["counts"] == full["counts"] == lengths
    # The latest five of each kind, latest first.
    assert [b["ip"] for b in digest["bursts"]] == [f"10.0.7.{n}" for n in (7, 6, 5, 4, 3)]
    assert [e.ip for e in digest["late_codes"]] == [f"183.3.{n}.5" for n in (5, 4, 3, 2, 1)]
    assert len(digest["devices"]) == 5 and all(len(d["names"]) == 3 and d["people"] == 3 for d in digest["devices"])
    assert [e.at for e in digest["refusals"]] == [START + dt.timedelta(seconds=8000 + n) for n in (7, 6, 5, 4, 3)]
    with time_machine.travel(LATER, tick=False):
        page = client_for(org.admin).get(reverse("reports:dashboard")).text
    for kind, count in lengths.items():
        assert f'<strong data-kind="{kind}">{count}</strong>' in page
    assert '<div class="stat">27</div>' in page  # the card: every suspicion
    table = page.split('class="anomalies"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 5 * 4  # the header, five of each kind
    bursts = [row for row in table.split("<tr>") if "burst from one address" in row]
    assert "Surgeon 30, Surgeon 31, Surgeon 32, Surgeon 33, Surgeon 34" in bursts[0]  # the latest, named
    assert not any("Surgeon 0," in row for row in bursts)  # the first is counted, not listed


def test_a_head_counts_the_bursts_their_people_are_in_as_listed(org, meeting):
    surgeons = [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(9)]
    cardiologists = [make_employee(f"K{n}", f"Cardiologist {n}", org.a1) for n in range(2)]
    # One address: five surgeons (a burst without the head's people), then, later, four surgeons and a
    # cardiologist (a burst with one); another address: five surgeons only.
    suspect(meeting, surgeons[:5], 0, "10.0.0.7")
    suspect(meeting, surgeons[5:9] + cardiologists[:1], 300, "10.0.0.7")
    suspect(meeting, surgeons[:5], 600, "10.0.0.8")
    head = Scope(everyone=False, paths=(org.a.path,))
    full = suspicions(head)
    with time_machine.travel(LATER, tick=False):
        digest = anomalies(head, shown=5)
    assert [(b["ip"], b["first"], b["people"]) for b in full["bursts"]] == [
        ("10.0.0.7", START + dt.timedelta(seconds=300), [cardiologists[0]])]
    assert full["counts"]["bursts"] == digest["counts"]["bursts"] == 1
    assert suspicions(Scope(everyone=True))["counts"]["bursts"] == 2  # each address's first burst


# ---------------------------------------------------------------- the suspicions page, a page at a time


def section(page: str, kind: str) -> str:
    return page.split(f'<section id="{kind}"')[1].split("</section>")[0]


def link(page: str, kind: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', section(page, kind))
    return html.unescape(found.group(1)) if found else None


def rows(page: str, kind: str) -> list[str]:
    body = section(page, kind).split("<tbody>")[1].split("</tbody>")[0]
    return ["|".join(re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row))
            for row in body.split("<tr>")[1:]]


@pytest.fixture
def suspicions_of_every_kind(org, meeting):
    """Seven of each kind at one meeting: bursts from seven addresses, refusals, phones used by three
    people, previous codes from home (the room: 20 check-ins from one network)."""
    people = [make_employee(f"S{n:03d}", f"Surgeon {n}", org.b) for n in range(40)]
    for burst in range(7):
        suspect(meeting, people[5 * burst:5 * burst + 5], 600 * burst, f"10.0.7.{burst + 1}")
    for device in range(7):
        for n, person in enumerate(people[device * 3:device * 3 + 3]):
            check_in_event(meeting=meeting, employee=person, at=START + dt.timedelta(seconds=5000 + 60 * n),
                           device_id=f"phone-{device}")
    for room in range(20):
        arrive(meeting, people[room], 6000 + room, f"10.20.30.{room + 1}")
    for late in range(7):
        arrive(meeting, people[30 + late], 7000 + 60 * late, f"183.3.{late}.5", note=PREVIOUS_CODE)
    for n in range(7):
        CheckInEvent.objects.create(meeting=meeting, employee=people[n], kind=CheckInEvent.Kind.REFUSED,
                                    at=START + dt.timedelta(seconds=8000 + n), reason="device_used")
    return people


def walk(client, kind: str, url: str = reverse("checkin:suspicious")) -> tuple[list[list[str]], list[str]]:
    """Every page of one list by its next links: the rows of each page, and the pages' URLs."""
    pages, urls = [], []
    while url:
        urls.append(url)
        with time_machine.travel(LATER, tick=False):
            page = client.get(url if url.startswith("/") else reverse("checkin:suspicious") + url).text
        pages.append(rows(page, kind))
        url = link(page, kind, "next")
    return pages, urls


@pytest.mark.parametrize("kind", ["bursts", "late_codes", "devices", "refusals"])
def test_each_list_of_the_suspicions_page_pages_by_key_forward_and_back(
        org, client_for, suspicions_of_every_kind, monkeypatch, kind):
    from learntrace.checkin import selectors

    monkeypatch.setattr(selectors, "SUSPICIONS_PAGE", 3)
    admin = client_for(org.admin)
    pages, urls = walk(admin, kind)
    assert [len(p) for p in pages] == [3, 3, 1]
    every = [row for p in pages for row in p]
    assert len(set(every)) == 7  # none twice, none left out
    with time_machine.travel(LATER, tick=False):
        whole = admin.get(reverse("checkin:suspicious")).text
        assert "7 found" in section(whole, kind)
        last = admin.get(reverse("checkin:suspicious") + urls[2]).text
        assert link(last, kind, "next") is None
        back = admin.get(reverse("checkin:suspicious") + link(last, kind, "prev")).text
        assert rows(back, kind) == pages[1]
        first = admin.get(reverse("checkin:suspicious") + link(back, kind, "prev")).text
    assert rows(first, kind) == pages[0] and link(first, kind, "prev") is None
    if kind in ("late_codes", "refusals"):  # latest first
        times = [re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row).group(0) for row in every]
        assert times == sorted(times, reverse=True)


def test_paging_one_list_keeps_the_page_of_the_others(org, client_for, suspicions_of_every_kind, monkeypatch):
    from learntrace.checkin import selectors

    monkeypatch.setattr(selectors, "SUSPICIONS_PAGE", 3)
    admin = client_for(org.admin)
    url = reverse("checkin:suspicious")
    with time_machine.travel(LATER, tick=False):
        page = admin.get(url).text
        second_bursts = admin.get(url + link(page, "bursts", "next")).text
        both = admin.get(url + link(second_bursts, "refusals", "next")).text
    assert rows(both, "bursts") == rows(second_bursts, "bursts") != rows(page, "bursts")
    assert rows(both, "refusals") != rows(page, "refusals")
    assert "bursts_after=" in link(both, "refusals", "prev") and link(both, "refusals", "prev").endswith("#refusals")


def encoded(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode()


# Not base64, not JSON, an object, an empty list, a time without its zone, no time, a yes for a number,
# a number too large for a float.
@pytest.mark.parametrize("key", [
    "garbage!", "x", encoded(b"{}"), encoded(b"[]"), encoded(b'["2026-03-10T09:00:00", 1]'),
    encoded(b'["yesterday", 1]'), encoded(b'[true, "2026-03-10T09:00:00+00:00"]'),
    encoded(b'["2026-03-10T09:00:00+00:00", 1e400]')])
def test_a_page_link_that_is_no_key_shows_the_first_page_and_says_so(
        org, client_for, suspicions_of_every_kind, monkeypatch, key):
    from learntrace.checkin import selectors

    monkeypatch.setattr(selectors, "SUSPICIONS_PAGE", 3)
    admin = client_for(org.admin)
    with time_machine.travel(LATER, tick=False):
        first = admin.get(reverse("checkin:suspicious")).text
        for kind in ("bursts", "late_codes", "devices", "refusals"):
            for direction in ("after", "before"):
                response = admin.get(reverse("checkin:suspicious"), {f"{kind}_{direction}": key})
                assert response.status_code == 200
                assert "That page link is not valid any more" in response.text
                assert rows(response.text, kind) == rows(first, kind)


@pytest.mark.parametrize("kind", ["bursts", "late_codes", "devices", "refusals"])
def test_a_key_with_nothing_beyond_it_any_more_shows_the_first_page(
        org, client_for, suspicions_of_every_kind, monkeypatch, kind):
    from learntrace.checkin import selectors

    monkeypatch.setattr(selectors, "SUSPICIONS_PAGE", 3)
    admin = client_for(org.admin)
    values = {"bursts": ["2000-01-01T00:00:00+00:00", 1, "10.0.0.1"], "devices": [1, "zzz"]}.get(
        kind, ["2000-01-01T00:00:00+00:00", 1])
    with time_machine.travel(LATER, tick=False):
        first = admin.get(reverse("checkin:suspicious")).text
        beyond = admin.get(reverse("checkin:suspicious"), {f"{kind}_after": selectors.suspicion_key(values)}).text
    assert rows(beyond, kind) == rows(first, kind) and len(rows(first, kind)) == 3
    assert link(beyond, kind, "next") and link(beyond, kind, "prev") is None
    assert "That page link is not valid" not in beyond


def test_a_head_pages_through_the_suspicions_of_their_people_only(org, meeting, client_for):
    surgeons = [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(9)]
    cardiologists = [make_employee(f"K{n}", f"Cardiologist {n}", org.a1) for n in range(2)]
    suspect(meeting, surgeons[:5], 0, "10.0.0.7")
    suspect(meeting, surgeons[5:9] + cardiologists[:1], 300, "10.0.0.7")
    suspect(meeting, surgeons[:5], 600, "10.0.0.8")
    for n, person in enumerate((surgeons[0], cardiologists[1])):
        CheckInEvent.objects.create(meeting=meeting, employee=person, kind=CheckInEvent.Kind.REFUSED,
                                    at=START + dt.timedelta(seconds=900 + n), reason="device_used")
    for person in surgeons[:3]:
        check_in_event(meeting=meeting, employee=person, at=START + dt.timedelta(seconds=1000), device_id="phone-1")
    with time_machine.travel(LATER, tick=False):
        page = client_for(org.head).get(reverse("checkin:suspicious")).text
        everyone = client_for(org.admin).get(reverse("checkin:suspicious")).text
    [burst] = rows(page, "bursts")
    assert burst.startswith("10.0.0.7|Quarterly all-hands|5|") and burst.endswith(f"|{cardiologists[0].name}")
    assert [cardiologists[1].name in row for row in rows(page, "refusals")] == [True]
    assert '<section id="devices"' not in page and "Surgeon" not in page  # a phone's list names anyone
    assert len(rows(everyone, "bursts")) == 2 and len(rows(everyone, "refusals")) == 2
    assert "phone-1" in section(everyone, "devices")
    assert client_for(org.learner).get(reverse("checkin:suspicious")).status_code == 403
