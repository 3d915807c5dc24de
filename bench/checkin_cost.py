"""What one check-in costs the server, in CPU (the web process's and its PostgreSQL backend's): 1 000
people check in to an open meeting through the check-in service, 30 ms apart, in one process.

- **one address**: every phone behind one address (a hall behind one NAT address), so from the fifth
  on every check-in closes a burst and is flagged, and reads the check-ins of its address before it;
- **baseline, same run**: the same check-ins to another meeting, each from its own address.

Both have a phone of their own per person. The first 200 of each are a warm-up; medians of the rest."""

import statistics

from bench.common import fresh_database, in_shell, report

PEOPLE = 1200
WARM_UP = 200


def inner(_ids) -> dict:
    import datetime as dt

    from django.utils import timezone

    from bench.common import measured
    from learntrace.catalog.models import Category, Course
    from learntrace.checkin import services
    from learntrace.checkin.models import Meeting
    from learntrace.org.models import Department, Employee
    from learntrace.org.services import department_path

    root = Department.objects.create(code="C", name="check-in cost")
    root.path = department_path(None, root.pk)
    root.save()
    category = Category.objects.create(code="c", name="c")
    course = Course.objects.create(title="meeting", kind="offline", category=category, duration_seconds=7200,
                                   is_published=True)
    now = timezone.now()
    addresses = {"one_address": lambda n: "10.0.0.1", "own_address": lambda n: f"10.{n // 250}.{n % 250}.1"}
    result = {}
    for name, address in addresses.items():
        meeting = Meeting.objects.create(course=course, title=name, starts_at=now, ends_at=now + dt.timedelta(hours=2),
                                         roster=Meeting.Roster.OPEN)
        people = Employee.objects.bulk_create([Employee(employee_no=f"{name}-{n}", name=f"{name} {n}", department=root)
                                               for n in range(PEOPLE)])
        runs = []
        for n, person in enumerate(people):
            moment, ip = now + dt.timedelta(milliseconds=30 * n), address(n)
            runs.append(measured(lambda meeting=meeting, person=person, moment=moment, ip=ip: services.scan(
                meeting=meeting, employee=person, mode="in", scanned_at=moment, via="scan",
                device_id=f"phone-{person.pk}", ip=ip, now=moment)))
        kept = runs[WARM_UP:]
        result[name] = {"cpu_ms": statistics.median((r["cpu"] + r["db_cpu"]) * 1000 for r in kept),
                        "db_cpu_ms": statistics.median(r["db_cpu"] * 1000 for r in kept)}
    return result


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, "bench_checkin_cost") as database_url:
        result = in_shell(database_url, "bench.checkin_cost", "inner", None)
    one, own = result["one_address"], result["own_address"]
    return report(result, [
        f"check-in, CPU a check-in (of which database), median of {PEOPLE - WARM_UP}: all behind one address "
        f"{one['cpu_ms']:.2f} ms ({one['db_cpu_ms']:.2f}) | each from its own address {own['cpu_ms']:.2f} ms "
        f"({own['db_cpu_ms']:.2f}) | {one['cpu_ms'] / own['cpu_ms']:.2f}×"])
