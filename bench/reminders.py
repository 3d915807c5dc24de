"""A reminder moment for N people (default 2 000) on PostgreSQL: expanding it into deliveries
(the stored standings of everyone, one message each in their language, the unique keys), running it again
(skipped), and sending every in-app delivery with claim-then-send.

Baseline in the same run: the same standings read plus a bare bulk insert of one in-app
notification per person behind — what reminders would cost with no delivery guarantees."""

import os

from bench.common import fresh_database, shell_json

N = int(os.environ.get("BENCH_REMINDER_PEOPLE", "2000"))

SCRIPT = r"""
import datetime as dt, json, time
from zoneinfo import ZoneInfo
from django.db import connection
from django.test.utils import CaptureQueriesContext
from learntrace.catalog.models import Category, Course
from learntrace.notify import services
from learntrace.notify.models import Channel, Delivery, Notification, ReminderSchedule
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan, PlanDepartment
from learntrace.compliance.models import Standing
from learntrace.compliance.services import refresh_changed
from learntrace.plans.selectors import current_assignments_of
from learntrace.records.models import CreditedTime
N = {n}
zone = ZoneInfo("Asia/Shanghai")
now = dt.datetime(2026, 3, 15, 9, 5, tzinfo=zone)
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
Employee.objects.bulk_create([Employee(employee_no=f"B{{i:06d}}", name=f"员工{{i}}", department=root,
                                       language="en" if i % 2 else "zh-hans") for i in range(N)], batch_size=5000)
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=8 * 3600)
plan = LearningPlan.objects.create(name="bench", period_type="monthly", starts_on=dt.date(2026, 3, 1), due_day=25,
                                   min_total_seconds=8 * 3600)
PlanDepartment.objects.create(plan=plan, department=root, include_subtree=True)
plan_services.publish_plan(actor=None, plan=plan, now=now)
people = list(Employee.objects.values_list("pk", flat=True))
CreditedTime.objects.bulk_create([CreditedTime(employee_id=pk, course=course, kind="video", category=category,
                                               seconds=4 * 3600, occurred_at=now - dt.timedelta(days=3),
                                               source="tracking") for pk in people[::2]], batch_size=5000)
period = plan.periods.get()
refresh_changed(now=now)  # the worker keeps the standings
inapp = Channel.objects.get(kind="inapp")
out = {{"people": N}}

started = time.perf_counter()
assignments = current_assignments_of(Employee.objects.filter(is_active=True), now=now).filter(period=period)
behind = [s for s in Standing.objects.filter(assignment__in=assignments.values("pk")).select_related("employee")
          if not s.complete]
Notification.objects.bulk_create([Notification(employee=s.employee, subject="s", text="t", link="/")
                                  for s in behind], batch_size=500)
out["baseline_s"] = time.perf_counter() - started
Notification.objects.all().delete()

schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15])
schedule.channels.set([inapp])
services._enqueue = lambda ids, delay=0: None  # sends are measured below, one by one
with CaptureQueriesContext(connection) as queries:
    started = time.perf_counter()
    created = services.run_reminders(now=now)
    out["expand_s"] = time.perf_counter() - started
out["expand_queries"] = len(queries)
out["deliveries"] = created
started = time.perf_counter()
services.run_reminders(now=now)
out["again_s"] = time.perf_counter() - started
started = time.perf_counter()
for pk in Delivery.objects.values_list("pk", flat=True):
    services.send_delivery(delivery_id=pk)
out["send_s"] = time.perf_counter() - started
out["sent"] = Delivery.objects.filter(status="sent").count()
print(json.dumps(out))
"""


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, "bench_reminders") as database_url:
        result = shell_json(database_url, SCRIPT.format(n=N))
    print(f"reminders, {N} people on PostgreSQL ({result['deliveries']} behind): expand "
          f"{result['expand_s']:.2f} s in {result['expand_queries']} queries, again {result['again_s']:.3f} s, "
          f"send {result['sent']} in-app deliveries {result['send_s']:.1f} s "
          f"({result['sent'] / result['send_s']:.0f}/s) | baseline, standings + bare insert: "
          f"{result['baseline_s']:.2f} s | expand / baseline {result['expand_s'] / result['baseline_s']:.2f}×")
    return result
