"""Compliance rules with exact values: the windows a period closes, each rule's verdict, each
consequence's entry, and the boundaries where a verdict turns."""

import datetime as dt
from zoneinfo import ZoneInfo

from learntrace.compliance import services
from learntrace.plans.models import PlanPeriod

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def month(year, number) -> PlanPeriod:
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return PlanPeriod(starts_at=at(year, number, 1), ends_at=at(following.year, following.month, 1))


def test_a_period_closes_the_quarter_and_the_year_it_ends():
    march, june, december, may = month(2026, 3), month(2026, 6), month(2026, 12), month(2026, 5)
    assert services.window_bounds("period", may) == (at(2026, 5, 1), at(2026, 6, 1))
    assert services.window_bounds("quarter", march) == (at(2026, 1, 1), at(2026, 4, 1))
    assert services.window_bounds("quarter", june) == (at(2026, 4, 1), at(2026, 7, 1))
    assert services.window_bounds("quarter", december) == (at(2026, 10, 1), at(2027, 1, 1))
    assert services.window_bounds("quarter", may) is None
    assert services.window_bounds("year", december) == (at(2026, 1, 1), at(2027, 1, 1))
    assert services.window_bounds("year", march) is None
    assert services.window_label("quarter", (at(2026, 1, 1), at(2026, 4, 1))) == "2026-Q1"
    assert services.window_label("quarter", (at(2026, 4, 1), at(2026, 7, 1))) == "2026-Q2"
    assert services.window_label("quarter", (at(2026, 10, 1), at(2027, 1, 1))) == "2026-Q4"
    assert services.window_label("year", (at(2026, 1, 1), at(2027, 1, 1))) == "2026"
    assert services.window_label("period", (at(2026, 5, 1), at(2026, 6, 1))) == ""


def test_a_period_ending_other_than_at_a_local_midnight_closes_no_quarter():
    odd = [PlanPeriod(starts_at=at(2026, 3, 1), ends_at=end)
           for end in (at(2026, 4, 2), at(2026, 4, 1, 1), at(2026, 4, 1, 0, 1))]
    assert [services.window_bounds("quarter", period) for period in odd] == [None, None, None]
    # A quarter in another zone's midnight is not a local one.
    utc = PlanPeriod(starts_at=at(2026, 3, 1), ends_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert services.window_bounds("quarter", utc) is None
