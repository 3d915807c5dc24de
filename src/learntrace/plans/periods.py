"""Calendar arithmetic of plan periods, in the deployment's time zone."""

import calendar
import datetime as dt

from learntrace.core.months import add_months, quarter_start, start_of_day
from learntrace.plans.models import PeriodType


def period_dates(period_type: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The [first day, day after the last) of the recurring period that contains `day`."""
    if period_type == PeriodType.MONTHLY:
        first = day.replace(day=1)
        return first, add_months(first, 1)
    if period_type == PeriodType.QUARTERLY:
        first = quarter_start(day)
        return first, add_months(first, 3)
    if period_type == PeriodType.YEARLY:
        return dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    raise ValueError(f"not a recurring period: {period_type}")


def due_date(last_day: dt.date, due_day: int | None) -> dt.date:
    """The due day in the month of `last_day`, clamped to that month's length (31 → 28 in February)."""
    if not due_day:
        return last_day
    days_in_month = calendar.monthrange(last_day.year, last_day.month)[1]
    return last_day.replace(day=min(due_day, days_in_month))


def period_bounds(plan, day: dt.date) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
    """(starts_at, ends_at, due_at) of `plan`'s period containing `day`, or None when there is none."""
    if day < plan.starts_on:
        return None
    if plan.period_type == PeriodType.ONE_OFF:
        if plan.ends_on is None or day > plan.ends_on:
            return None
        first, after = plan.starts_on, plan.ends_on + dt.timedelta(days=1)
    else:
        first, after = period_dates(plan.period_type, day)
    last = after - dt.timedelta(days=1)
    due = due_date(last, plan.due_day) if plan.period_type != PeriodType.ONE_OFF else last
    return start_of_day(first), start_of_day(after), start_of_day(due + dt.timedelta(days=1))
