"""The per-department sums of standings (compliance/rollup.py), exactly."""

from learntrace.compliance import services
from learntrace.compliance.models import PeriodFigures, Standing
from learntrace.compliance.rollup import sum_period_figures, sum_standings
from test_compliance import HOUR, at, monthly_plan, period_of


def test_the_sums_per_department_and_the_hours_histogram_are_exact(org, catalog):
    plan = monthly_plan(org, catalog)
    services.refresh_changed(now=at(2026, 3, 10, 9))
    march = period_of(plan, 3)
    # (total, owed, complete, compliant) of each person: under an hour, at an hour, at and above twelve.
    figures = {org.head: (0, 7200, False, False), org.learner: (50000, 0, True, True),
               org.outsider: (3599, 3601, False, None), org.admin: (3600, 3600, False, False),
               org.auditor: (43200, 0, True, False)}  # hours done, yet judged against by a rule
    for employee, (total, owed, complete, compliant) in figures.items():
        Standing.objects.filter(period=march, employee=employee).update(
            total_seconds=total, target_seconds=2 * HOUR, owed_seconds=owed, complete=complete, compliant=compliant)
    hours = {f"h{hour}": 0 for hour in range(13)}
    everyone = {"period_id": march.pk, "people": 5, "complete": 2, "compliant": 1, "evaluated": 4,
                "done_seconds": 21599, "target_seconds": 36000, "owed_seconds": 14401,
                **hours, "h0": 2, "h1": 1, "h12": 2}
    assert sum_standings(Standing.objects.filter(period=march), "period_id") == [everyone]
    [human_resources] = [group for group in sum_standings(Standing.objects.filter(period=march), "department_id")
                         if group["department_id"] == org.hr.pk]
    assert human_resources == {"department_id": org.hr.pk, "people": 2, "complete": 1, "compliant": 0,
                               "evaluated": 2, "done_seconds": 10800, "target_seconds": 14400,
                               "owed_seconds": 3600, **hours, "h1": 1, "h12": 1}
    services.roll_up([march.pk])
    assert sum_period_figures(PeriodFigures.objects.filter(period=march), "period_id") == [everyone]
