"""Corrections are new facts that point at what they correct; progress follows them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from learntrace.core.models import AuditEntry
from learntrace.evidence import services as evidence
from learntrace.plans import services as plan_services
from learntrace.plans.models import Assignment
from learntrace.plans.progress import COMPLETED, progress_for
from learntrace.records.models import Completion, Correction, CreditedTime
from learntrace.records.services import correct_time, record_credited_time, void_completion
from test_plans import HOUR, hospital_plan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_correcting_time_changes_the_period_it_counted_in(org, catalog):
    plan = hospital_plan(org, catalog)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    fact = record_credited_time(employee=org.head, course=catalog.meeting, seconds=2 * HOUR, occurred_at=at(2026, 3, 2))
    correction = correct_time(actor=org.admin.user, fact=fact, seconds_delta=-HOUR, reason="Left after one hour")
    assert correction.corrects_id == fact.pk and correction.occurred_at == fact.occurred_at
    assert CreditedTime.objects.get(pk=fact.pk).seconds == 2 * HOUR  # the fact itself is untouched
    progress = progress_for([Assignment.objects.get(employee=org.head, period__starts_at=at(2026, 3, 1))])[0]
    assert progress.by_kind["offline"].done == HOUR
    with pytest.raises(ValidationError, match="more time than was ever credited"):
        correct_time(actor=org.admin.user, fact=fact, seconds_delta=-2 * HOUR, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        correct_time(actor=org.admin.user, fact=fact, seconds_delta=60, reason=" ")
    assert AuditEntry.objects.filter(action="correct_time").count() == 1


def test_a_voided_completion_no_longer_counts(org, catalog):
    from learntrace.plans.models import PlanItem

    plan = hospital_plan(org, catalog)
    PlanItem.objects.create(plan=plan, course=catalog.clinical_video)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 3, 3))
    completion = Completion.objects.get(employee=org.head)
    assignment = Assignment.objects.get(employee=org.head, period__starts_at=at(2026, 3, 1))
    assert progress_for([assignment])[0].items[0].state == COMPLETED
    void_completion(actor=org.admin.user, completion=completion, reason="Watched by a colleague on his account")
    progress = progress_for([assignment])[0]
    assert progress.items[0].state != COMPLETED
    assert progress.credits[0].done == 0  # its credits are gone too
    with pytest.raises(ValidationError, match="already voided"):
        void_completion(actor=org.admin.user, completion=completion, reason="again")
    assert Completion.objects.filter(pk=completion.pk).exists()  # nothing deleted
    evidence.seal_pending()
    assert evidence.verify().ok and evidence.seal_of(6, Correction.objects.get().pk) is not None


def test_corrections_through_the_training_file(org, client_for, catalog):
    fact = record_credited_time(employee=org.learner, course=catalog.meeting, seconds=2 * HOUR,
                                occurred_at=at(2026, 3, 2))
    url = reverse("records:correct", args=[org.learner.pk])
    assert client_for(org.head).post(url, {"kind": "time", "fact": fact.pk, "minutes": "-30",
                                           "reason": "x"}).status_code == 403
    client = client_for(org.admin)
    client.post(url, {"kind": "time", "fact": fact.pk, "minutes": "abc", "reason": "Late"})
    assert not Correction.objects.exists()
    client.post(url, {"kind": "time", "fact": fact.pk, "minutes": "-30", "reason": "Arrived 30 minutes late"})
    assert Correction.objects.get().seconds_delta == -1800
    page = client.get(reverse("trainingfile:file", args=[org.learner.pk])).text
    assert "Arrived 30 minutes late" in page and "-30 minutes" in page
    assert client.post(url, {"kind": "time", "fact": 999999, "minutes": "5", "reason": "x"}).status_code == 404
