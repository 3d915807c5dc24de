"""How periods and what is owed read on a page, in either language."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.core.months import local_zone
from learntrace.core.numbers import hours_text
from learntrace.org.models import Level
from learntrace.plans.models import PeriodType

register = template.Library()


def _local(moment):
    return timezone.localtime(moment, local_zone())


@register.filter
def period_label(period) -> str:
    start = _local(period.starts_at)
    last_day = (_local(period.ends_at) - dt.timedelta(days=1)).date()
    kind = period.plan.period_type
    if kind == PeriodType.MONTHLY:
        return _("%(year)d-%(month)02d") % {"year": start.year, "month": start.month}
    if kind == PeriodType.QUARTERLY:
        return _("%(year)d Q%(quarter)d") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}
    if kind == PeriodType.YEARLY:
        return _("%(year)d") % {"year": start.year}
    return f"{start:%Y-%m-%d} – {last_day:%Y-%m-%d}"


@register.filter
def due_day(period) -> dt.date:
    return (_local(period.due_at) - dt.timedelta(days=1)).date()


@register.simple_tag
def hours_sentence(progress) -> str:
    """"本月已完成 4.0 小时,还需 4.0 小时" — what the article's reminder says, for the plan's period."""
    values = {"done": hours_text(progress.total.done), "owed": hours_text(progress.total.owed)}
    kind = progress.plan.period_type
    if progress.total.met:
        sentences = {
            PeriodType.MONTHLY: _("This month: %(done)s h done, the hours are complete."),
            PeriodType.QUARTERLY: _("This quarter: %(done)s h done, the hours are complete."),
            PeriodType.YEARLY: _("This year: %(done)s h done, the hours are complete."),
            PeriodType.ONE_OFF: _("%(done)s h done, the hours are complete."),
        }
    else:
        sentences = {
            PeriodType.MONTHLY: _("This month: %(done)s h done, %(owed)s h to go."),
            PeriodType.QUARTERLY: _("This quarter: %(done)s h done, %(owed)s h to go."),
            PeriodType.YEARLY: _("This year: %(done)s h done, %(owed)s h to go."),
            PeriodType.ONE_OFF: _("%(done)s h done, %(owed)s h to go."),
        }
    return sentences[kind] % values


@register.simple_tag
def percent_of(done, target) -> int:
    try:
        return min(100, int(done) * 100 // int(target)) if int(target) else 100
    except (TypeError, ValueError):
        return 0


@register.filter
def level_label(level: str) -> str:
    """A plan audience's level as its label ("department_head" -> 科室主任)."""
    return str(dict(Level.choices).get(level, level))
