"""Deep pages: the per-person list and the API's standings follow a key through an index instead
of counting past rows, in the same order as before, with the same queries on every page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_employee
from learntrace.compliance import services
from learntrace.compliance.models import Standing
from learntrace.reports.selectors import PEOPLE_ORDER
from test_api import call, token_for  # noqa: F401 - the fixture
from test_compliance import at, monthly_plan, period_of, watch

ROW = re.compile(r'<tr data-employee="([^"]+)"><td>[^<]*</td><td[^>]*>[^<]*</td><td>[^<]*</td><td>([^<]+) <span')


@pytest.fixture
def many_standings(org, catalog):
    """Three months of a plan for 45 people in three departments (135 standings)."""
    plan = monthly_plan(org, catalog)
    for n in range(40):
        make_employee(f"M{(n * 7) % 40:03d}", f"Member {n}", [org.a1, org.b, org.hr][n % 3])
    from learntrace.plans import services as plan_services

    for period in plan.periods.all():
        plan_services.sync_assignments(period=period, now=at(2026, 3, 2, 9))
        services.refresh_period(period, now=at(2026, 3, 20, 9))
    assert Standing.objects.count() == 135
    return plan


def expected_order():
    return list(Standing.objects.filter(removed_at__isnull=True).order_by(*PEOPLE_ORDER).values_list(
        "employee__employee_no", "plan__name"))


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="\?([^"]*)" rel="{rel}">', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_per_person_list_pages_by_key_in_the_same_order(org, many_standings, client_for):
    client = client_for(org.admin)
    url = reverse("reports:people")
    pages, query, counts = [], "period=all", []
    while query is not None:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"{url}?{query}").text
        counts.append(len(queries.captured_queries))
        pages.append(page)
        query = link(page, "next")
    assert len(pages) == 3 and "135 rows" in pages[0]
    seen = [(number, plan) for page in pages for number, plan in ROW.findall(page)]
    assert [number for number, _plan in seen] == [number for number, _plan in expected_order()]
    assert len(set(counts)) == 1  # the last page costs what the first does
    assert link(pages[0], "prev") is None and link(pages[2], "next") is None
    # Back from the last page is the second page again.
    back = client.get(f"{url}?{link(pages[2], 'prev')}").text
    assert ROW.findall(back) == ROW.findall(pages[1])
    assert "OFFSET" not in " ".join(q["sql"] for q in queries.captured_queries).upper()


def test_a_page_link_that_is_not_one_is_answered_with_the_first_page(org, many_standings, client_for):
    client = client_for(org.admin)
    url = reverse("reports:people")
    first = ROW.findall(client.get(f"{url}?period=all").text)
    for key in ("nonsense", "WyJhIiwgMV0", "W251bGwsIG51bGwsIG51bGwsIG51bGwsIG51bGxd"):
        response = client.get(url, {"period": "all", "after": key})
        assert response.status_code == 200
        assert ROW.findall(response.text) == first
        assert "That page link is not valid any more" in response.text


def test_the_api_cursor_follows_the_stored_change_time_by_index(org, catalog, many_standings, token_for):  # noqa: F811
    payroll = token_for(org.admin, ["compliance:read"])
    path = f"/compliance/plans/{many_standings.pk}/standings"
    items, cursor = [], None
    while True:
        params = {"on": "2026-03-10", "limit": 20, **({"cursor": cursor} if cursor else {})}
        with CaptureQueriesContext(connection) as queries:
            status, body = call("get", path, payroll, **params)
        assert status == 200
        assert "GREATEST" not in " ".join(q["sql"] for q in queries.captured_queries).upper()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    march = period_of(many_standings, 3)
    assert [i["employee_no"] for i in items] == list(Standing.objects.filter(period=march).order_by(
        "changed_at", "pk").values_list("employee__employee_no", flat=True))
    assert len(items) == 45
    # Someone learns: their standing comes after the last cursor, and only theirs.
    last = call("get", path, payroll, on="2026-03-10", limit=45)[1]
    assert last["next_cursor"] is None
    tail_cursor = call("get", path, payroll, on="2026-03-10", limit=44)[1]["next_cursor"]
    watch(org.outsider, catalog.video, 1, at(2026, 3, 21, 9))
    services.refresh_changed(now=at(2026, 3, 21, 10))
    after = call("get", path, payroll, on="2026-03-10", limit=10, cursor=tail_cursor)[1]["items"]
    assert [i["employee_no"] for i in after][-1] == "E002"
    assert after[-1]["changed_at"] == after[-1]["refreshed_at"] == "2026-03-21T02:00:00Z"
