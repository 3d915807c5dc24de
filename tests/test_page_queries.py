"""The statements each main progress page costs, pinned exactly at two sizes: a page that reads
one more statement per person fails here."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import make_employee
from learntrace.catalog.models import Question, Quiz
from learntrace.compliance import services as compliance
from learntrace.org.models import Level
from learntrace.plans import services
from learntrace.plans.models import PlanItem
from learntrace.records.services import record_credited_time
from test_plans import HOUR, at, hospital_plan

NOW = at(2026, 3, 10, 9)


@pytest.fixture(autouse=True)
def march():
    with time_machine.travel(NOW, tick=False):
        yield


def scenario(org, catalog, people: int):
    """The hospital plan with a required course that has a quiz, for the head and `people` more heads."""
    for number in range(people):
        make_employee(f"X{number:03d}", f"Head {number}", org.a1, level=Level.DEPARTMENT_HEAD)
    plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 1, 1), requires_reflection=True)
    PlanItem.objects.create(plan=plan, course=catalog.video)
    quiz = Quiz.objects.create(course=catalog.video, pass_mark=60, attempts_allowed=2)
    Question.objects.create(quiz=quiz, text="?")
    services.publish_plan(actor=None, plan=plan)
    record_credited_time(employee=org.head, course=catalog.video, seconds=2 * HOUR, occurred_at=at(2026, 3, 2))
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 3, 3))
    compliance.refresh_changed()
    return plan


PAGES = {
    "my": lambda org, plan: reverse("plans:my"),
    "history": lambda org, plan: reverse("plans:history"),
    "assignment": lambda org, plan: reverse("plans:assignment",
                                            args=[org.head.assignments.order_by("-period__starts_at")[0].pk]),
    "team": lambda org, plan: reverse("plans:team"),
    "file": lambda org, plan: reverse("trainingfile:file", args=[org.head.pk]),
    "dashboard": lambda org, plan: reverse("reports:dashboard"),
    "courses": lambda org, plan: reverse("reports:courses"),
}


# Statements per page, whatever the number of people (before progress had one home: 16, 25, 15, 17, 44, 21, 11).
# Progress reads when each person joined, one statement per period (the training file shows three);
# the training file lists the person's certificates with their revocations (one statement).
# The dashboard lists the periods it reads its non-completers from (one statement).
STATEMENTS = {"my": 17, "history": 8, "assignment": 16, "team": 9, "file": 52, "dashboard": 22, "courses": 11}


@pytest.mark.parametrize("people", [2, 8])
@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_costs_the_same_statements_for_two_or_eight_more_people(org, catalog, client_for,
                                                                        django_assert_num_queries, page, people):
    plan = scenario(org, catalog, people)
    client = client_for(org.admin if page in {"team", "file", "dashboard", "courses"} else org.head)
    url = PAGES[page](org, plan)
    client.get(url)  # the session and the language are settled by the first request
    with django_assert_num_queries(STATEMENTS[page]):
        assert client.get(url).status_code == 200
