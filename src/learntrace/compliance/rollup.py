"""The per-department sums of standings, declared once.

`SUMS` names the columns of `PeriodFigures`. The roll-up writes them from the standings, and the
reports read them under the same names whether they sum the standings themselves (when a filter
narrows to people) or add up the stored sums."""

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Least

from learntrace.compliance.models import HISTOGRAM_HOURS

HOUR_BUCKETS = tuple(f"h{hour}" for hour in range(HISTOGRAM_HOURS + 1))
SUMS = ("people", "complete", "compliant", "evaluated", "done_seconds", "target_seconds", "owed_seconds",
        *HOUR_BUCKETS)
# An aggregate may not share its name with a column of the rows it sums: computed under this prefix.
_PREFIX = "sum__"


def _of_standings() -> dict:
    """Each sum as an aggregate of standings. Someone who joined after the due day owes nothing in
    the period: they are listed, but counted in no sum (the lists show them as not judged)."""
    judged = Q(joined_after_due=False)
    sums = {
        "people": Count("pk", filter=judged),
        "complete": Count("pk", filter=judged & Q(complete=True)),
        "compliant": Count("pk", filter=judged & Q(compliant=True)),
        "evaluated": Count("pk", filter=judged & Q(compliant__isnull=False)),
        # Hours count towards the target only up to it: one person's surplus does not hide another's gap.
        "done_seconds": Sum(Least("total_seconds", "target_seconds"), filter=judged),
        "target_seconds": Sum("target_seconds", filter=judged),
        "owed_seconds": Sum("owed_seconds", filter=judged),
    }
    # People by whole hours credited: h0 = under one hour ... h12 = twelve hours and more.
    for hour, name in enumerate(HOUR_BUCKETS):
        condition = judged & Q(total_seconds__gte=hour * 3600)
        if hour < HISTOGRAM_HOURS:
            condition &= Q(total_seconds__lt=(hour + 1) * 3600)
        sums[name] = Count("pk", filter=condition)
    return sums


def _grouped(rows: QuerySet, keys: tuple, aggregates: dict, extra: dict) -> list[dict]:
    groups = list(rows.values(*keys).annotate(**{_PREFIX + name: aggregates[name] for name in SUMS}, **extra)
                  .order_by())
    for group in groups:
        for name in SUMS:
            group[name] = group.pop(_PREFIX + name) or 0
    return groups


def sum_standings(rows: QuerySet, *keys: str, **extra) -> list[dict]:
    """Standings summed per group of `keys`: one dict per group, with the keys, every sum and the
    `extra` aggregates."""
    return _grouped(rows, keys, _of_standings(), extra)


def sum_period_figures(rows: QuerySet, *keys: str) -> list[dict]:
    """Stored sums (`PeriodFigures`) added up per group of `keys`, in the same shape as `sum_standings`."""
    return _grouped(rows, keys, {name: Sum(name) for name in SUMS}, {})
