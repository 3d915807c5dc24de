"""Calendar arithmetic in the deployment's time zone: days, months, quarters and years.

Every app that turns a date into a moment or steps through months uses these, so a month
always starts at local midnight of its first day and "the next month" is computed one way."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_zone() -> ZoneInfo:
    return ZoneInfo(str(settings.TIME_ZONE))


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, local_zone()).date()


def today() -> dt.date:
    return timezone.localdate(timezone=local_zone())


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or, negative, before) the month of `day`."""
    month_index = day.month - 1 + months
    return dt.date(day.year + month_index // 12, month_index % 12 + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the month of `month`, as moments."""
    first = month.replace(day=1)
    return start_of_day(first), start_of_day(add_months(first, 1))


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar year, as moments."""
    return start_of_day(dt.date(year, 1, 1)), start_of_day(dt.date(year + 1, 1, 1))
