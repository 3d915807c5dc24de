"""A burst of QR check-ins: 2 000 distinct learners check in within 60 s, through the real
web server (gunicorn, several workers) on PostgreSQL. Each learner scans (GET of the code's
URL, judged and turned into a signed ticket) and confirms (POST of the ticket): the check-in.
Reports check-ins lost (must be 0) and the latency of the confirming request, measured from
the moment it was due, and of scan + confirm together."""

import http.client
import os
import statistics
import threading
import time
from types import SimpleNamespace

from bench.common import burst, learner_sessions_script, shell_json
from bench.heartbeat import CSRF

LEARNERS = 2000
SECONDS = 60


def setup(database_url: str) -> dict:
    script = f"""
import datetime as dt, json
from django.utils import timezone
from learntrace.catalog.models import Category, Course
from learntrace.checkin.models import Meeting
from learntrace.org.models import Department
from learntrace.org.services import department_path
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="meeting", kind="offline", category=category, duration_seconds=7200,
                               is_published=True)
now = timezone.now()
meeting = Meeting.objects.create(course=course, title="burst", starts_at=now + dt.timedelta(minutes=5),
                                 ends_at=now + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
{learner_sessions_script(LEARNERS)}
print(json.dumps({{"meeting": meeting.pk, "secret": meeting.secret, "rotation": meeting.rotation_seconds,
                  "sessions": sessions}}))
"""
    return shell_json(database_url, script)


def count_attendance(database_url: str) -> tuple[int, int]:
    """Attendances stored, and the check-ins counted on the meetings by the database's triggers."""
    return tuple(shell_json(database_url, "from django.db.models import Sum\n"
                                          "from learntrace.checkin.models import Attendance, Meeting\n"
                                          "print([Attendance.objects.count(), "
                                          "Meeting.objects.aggregate(n=Sum('present_count'))['n'] or 0])"))


def run(admin_url: str, workers: int = 4) -> dict:
    return burst(admin_url, os.environ.get("BENCH_CHECKIN_DATABASE", "bench_checkin"), setup, _burst, workers)


def _burst(database_url: str, port: int, data: dict, workers: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from learntrace.checkin import services

    meeting = SimpleNamespace(pk=data["meeting"], secret=data["secret"], rotation_seconds=data["rotation"])
    results = {"confirm": [], "both": [], "errors": 0}
    lock, next_index = threading.Lock(), [0]
    begin = time.perf_counter() + 0.5

    def learner(index: int) -> None:
        cookie = f"sessionid={data['sessions'][index]}; csrftoken={CSRF}"
        due = begin + index * SECONDS / LEARNERS
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            code = services.token(meeting, services.step_at(meeting, services.timezone.now()))
            connection.request("GET", f"/checkin/s/{meeting.pk}/{code}/", headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            location = response.getheader("Location", "")
            if response.status != 302 or "/checkin/t/" not in location:
                raise RuntimeError(f"scan answered {response.status}")
            # The ticket is bound to the browser that scanned: send its cookie back, as a phone does.
            scan_cookie = next(value.split(";")[0] for name, value in response.getheaders()
                               if name.lower() == "set-cookie" and value.startswith("learntrace_scan="))
            confirm_due = time.perf_counter()
            connection.request("POST", location, body=f"csrfmiddlewaretoken={CSRF}",
                               headers={"Cookie": f"{cookie}; {scan_cookie}",
                                        "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            body = response.read().decode()
            if response.status != 200 or 'data-outcome="done"' not in body:
                raise RuntimeError(f"confirm answered {response.status}")
            finished = time.perf_counter()
            with lock:
                results["confirm"].append(finished - confirm_due)
                results["both"].append(finished - due)
        except Exception:  # noqa: BLE001 - counted, and the run goes on
            with lock:
                results["errors"] += 1
        finally:
            connection.close()

    def worker() -> None:
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= LEARNERS:
                return
            learner(index)

    threads = [threading.Thread(target=worker) for _ in range(48)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    stored, counted = count_attendance(database_url)

    def percentile(values, share):
        values = sorted(values)
        return 1000 * values[max(int(len(values) * share) - 1, 0)] if values else float("nan")

    summary = {
        "learners": LEARNERS, "seconds": elapsed, "stored": stored, "lost": LEARNERS - stored,
        "counted_on_meeting": counted,
        "errors": results["errors"],
        "confirm_p50_ms": 1000 * statistics.median(results["confirm"]) if results["confirm"] else float("nan"),
        "confirm_p99_ms": percentile(results["confirm"], 0.99),
        "both_p50_ms": 1000 * statistics.median(results["both"]) if results["both"] else float("nan"),
        "both_p99_ms": percentile(results["both"], 0.99),
    }
    print(f"check-in burst: {LEARNERS} learners in {elapsed:.1f} s, {stored} stored ({counted} counted on "
          f"the meeting), lost {summary['lost']}, "
          f"errors {summary['errors']}; check-in (confirm) p50 {summary['confirm_p50_ms']:.1f} ms, "
          f"p99 {summary['confirm_p99_ms']:.1f} ms; scan + confirm p50 {summary['both_p50_ms']:.1f} ms, "
          f"p99 {summary['both_p99_ms']:.1f} ms ({workers} gunicorn workers, PostgreSQL)")
    return summary
