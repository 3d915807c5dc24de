"""A 2 000-person exam through the real web server (gunicorn, several workers) on PostgreSQL.
Everyone opens it at once (the start POST and the exam page, as fast as 48 clients can), then
everyone submits within the last minute (one learner every 30 ms, open-loop) the form with an
answer to each of the paper's 20 questions. Reports answers lost (must be 0: every answer sent
is in the sealed result, as sent) and the latency of a submission, measured from when it was due."""

import http.client
import re
import statistics
import threading
import time

from bench.common import burst, learner_sessions_script, shell_json
from bench.heartbeat import CSRF

LEARNERS = 2000
QUESTIONS = 20
SECONDS = 60
CLIENTS = 48
OPTION = re.compile(r'name="q(\d+)" value="(\d+)"')


def setup(database_url: str) -> dict:
    script = f"""
import json
from learntrace.catalog.models import Category
from learntrace.exams.models import BankChoice, BankQuestion, Exam, ExamItem, QuestionBank
from learntrace.org.models import Department
from learntrace.org.services import department_path
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
category = Category.objects.create(code="bench", name="bench")
bank = QuestionBank.objects.create(name="bench", category=category)
exam = Exam.objects.create(title="burst", time_limit_minutes=30, attempts_allowed=1, is_published=True)
for n in range({QUESTIONS}):
    question = BankQuestion.objects.create(bank=bank, kind="single", text=f"Question {{n}}")
    BankChoice.objects.bulk_create([BankChoice(question=question, position=p, text=f"Option {{p}}", is_correct=p == 0)
                                    for p in range(4)])
    ExamItem.objects.create(exam=exam, question=question, position=n)
{learner_sessions_script(LEARNERS)}
print(json.dumps({{"exam": exam.pk, "sessions": sessions}}))
"""
    return shell_json(database_url, script)


def stored_answers(database_url: str) -> dict:
    """{sitting id: the answers in its result} of every result written."""
    return shell_json(database_url, "import json; from learntrace.exams.models import ExamResult; "
                                    "print(json.dumps({r.sitting_id: r.answers for r in ExamResult.objects.all()}))")


def run(admin_url: str, workers: int = 4) -> dict:
    return burst(admin_url, "bench_exam", setup, _burst, workers)


def _in_threads(job) -> None:
    lock, next_index = threading.Lock(), [0]

    def worker() -> None:
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= LEARNERS:
                return
            job(index)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def percentile(values, share) -> float:
    values = sorted(values)
    return 1000 * values[max(int(len(values) * share) - 1, 0)] if values else float("nan")


def _burst(database_url: str, port: int, data: dict, workers: int) -> dict:
    lock = threading.Lock()
    papers, opened, submitted, errors = {}, [], [], {"open": 0, "submit": 0}

    def cookie(index: int) -> str:
        return f"sessionid={data['sessions'][index]}; csrftoken={CSRF}"

    def open_exam(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request("POST", f"/exams/{data['exam']}/start/", body=f"csrfmiddlewaretoken={CSRF}",
                               headers={"Cookie": cookie(index), "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            location = response.getheader("Location", "")
            if response.status != 302 or "/exams/sittings/" not in location:
                raise RuntimeError(f"start answered {response.status}")
            connection.request("GET", location, headers={"Cookie": cookie(index)})
            response = connection.getresponse()
            page = response.read().decode()
            first = {}
            for question, choice in OPTION.findall(page):
                first.setdefault(question, choice)  # the first option shown (shuffled per person)
            if response.status != 200 or len(first) != QUESTIONS:
                raise RuntimeError(f"exam page answered {response.status}")
            with lock:
                papers[index] = (int(location.rstrip("/").rsplit("/", 1)[1]), first)
                opened.append(time.perf_counter() - started)
        except Exception:  # noqa: BLE001 - counted, and the run goes on
            with lock:
                errors["open"] += 1
        finally:
            connection.close()

    begin_open = time.perf_counter()
    _in_threads(open_exam)
    open_seconds = time.perf_counter() - begin_open

    begin = time.perf_counter() + 0.5

    def submit(index: int) -> None:
        if index not in papers:
            return
        sitting, answers = papers[index]
        due = begin + index * SECONDS / LEARNERS
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        body = "&".join([f"csrfmiddlewaretoken={CSRF}"] + [f"q{q}={c}" for q, c in answers.items()])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", f"/exams/sittings/{sitting}/submit", body=body,
                               headers={"Cookie": cookie(index), "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            if response.status != 302 or "/exams/results/" not in response.getheader("Location", ""):
                raise RuntimeError(f"submit answered {response.status}")
            with lock:
                submitted.append(time.perf_counter() - due)
        except Exception:  # noqa: BLE001 - counted, and the run goes on
            with lock:
                errors["submit"] += 1
        finally:
            connection.close()

    _in_threads(submit)
    submit_seconds = time.perf_counter() - begin
    stored = stored_answers(database_url)
    sent = sum(len(answers) for _sitting, answers in papers.values())
    kept = sum(1 for sitting, answers in papers.values() for question, choice in answers.items()
               if stored.get(str(sitting), {}).get(question) == [int(choice)])
    summary = {
        "learners": LEARNERS, "questions": QUESTIONS, "opened": len(papers), "results": len(stored),
        "answers_sent": sent, "answers_lost": sent - kept, "errors": errors,
        "open_seconds": open_seconds, "submit_seconds": submit_seconds,
        "open_p50_ms": 1000 * statistics.median(opened) if opened else float("nan"),
        "open_p99_ms": percentile(opened, 0.99),
        "submit_p50_ms": 1000 * statistics.median(submitted) if submitted else float("nan"),
        "submit_p99_ms": percentile(submitted, 0.99),
    }
    print(f"exam burst: {LEARNERS} learners opened in {open_seconds:.1f} s (start + page p50 "
          f"{summary['open_p50_ms']:.1f} ms, p99 {summary['open_p99_ms']:.1f} ms, errors {errors['open']}); "
          f"{len(submitted)} submitted in {submit_seconds:.1f} s, {len(stored)} results, answers lost "
          f"{summary['answers_lost']} of {sent}, errors {errors['submit']}; submission p50 "
          f"{summary['submit_p50_ms']:.1f} ms, p99 {summary['submit_p99_ms']:.1f} ms "
          f"({workers} gunicorn workers, PostgreSQL)")
    return summary
