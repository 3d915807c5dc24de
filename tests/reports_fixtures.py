"""A month of a hospital's learning, recorded as facts and refreshed into standings by the real
compliance service, with the figures the reports must show worked out by hand.

Plan "Monthly 2 hours" (whole hospital, 2 h a month, due on the 25th) from February 2026, published
on 2 March. February: nobody learned anything (a period with no facts). March:

| person | department | facts | total | complete | bucket |
|---|---|---|---|---|---|
| head (H001) | Internal medicine | 0.5 h video | 0.5 h | no, owes 1.5 h | 0 |
| learner (E001) | Cardiology | 1.5 h video + 1 h meeting | 2.5 h | yes | 2 |
| outsider (E002) | Surgery | 2 h video | 2 h | yes | 2 |
| newcomer (E003) | Surgery, joined 15 March | 1 h video on 16 March | 1 h | no, owes 1 h | 1 |
| admin, auditor | Human resources | — | 0 | no, owe 2 h each | 0 |

March: 6 people, 2 complete (33.3 %); hours towards the target 0.5 + 2 + 2 + 1 = 5.5 h of 12 h
(45.8 %); 6.5 h owed. Judged after the due day by a rule whose consequences are "Management
allowance" (those who do not comply) and a performance score of +5 / -5."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from conftest import make_employee
from learntrace.compliance import services as compliance
from learntrace.compliance.models import Consequence, Rule
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan, PeriodType, PlanDepartment, PlanPeriod
from learntrace.records.services import record_credited_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def watch(employee, course, hours, when):
    record_credited_time(employee=employee, course=course, seconds=int(hours * HOUR), occurred_at=when)


def hospital_month(org, catalog) -> SimpleNamespace:
    plan = LearningPlan.objects.create(name="Monthly 2 hours", period_type=PeriodType.MONTHLY,
                                       starts_on=dt.date(2026, 2, 1), due_day=25, min_total_seconds=2 * HOUR)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 2, 9))
    rule = Rule.objects.create(plan=plan, name="Monthly hours")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Management allowance")
    Consequence.objects.create(rule=rule, applies_to="compliant", kind="score", name="Performance", value=5)
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="score", name="Performance", value=-5)

    newcomer = make_employee("E003", "Newcomer in surgery", org.b)
    plan_services.sync_employee(employee=newcomer, now=at(2026, 3, 15, 9))

    watch(org.head, catalog.video, 0.5, at(2026, 3, 5, 10))
    watch(org.learner, catalog.video, 1.5, at(2026, 3, 3, 10))
    watch(org.learner, catalog.meeting, 1, at(2026, 3, 9, 14))
    watch(org.outsider, catalog.video, 2, at(2026, 3, 4, 10))
    watch(newcomer, catalog.video, 1, at(2026, 3, 16, 10))
    compliance.refresh_changed(now=at(2026, 3, 26, 9))
    march = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 3, 1))
    february = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 2, 1))
    return SimpleNamespace(plan=plan, march=march, february=february, newcomer=newcomer)
