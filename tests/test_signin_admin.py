"""The admin's view of signing in: the sign-in log (admins and auditors, filtered, paginated) and the
outside accounts linked to an employee, with unlinking (admins only, POST, audited)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.core.models import AuditEntry


def event(method, outcome, at, **fields):
    created = SignInEvent.objects.create(method=method, outcome=outcome, **fields)
    SignInEvent.objects.filter(pk=created.pk).update(at=at)
    return created


@pytest.fixture
def events(org):
    zone = timezone.get_current_timezone()
    event("password", "success", dt.datetime(2026, 3, 1, 8, 0, tzinfo=zone), employee=org.learner,
          identifier="learner", ip_address="10.0.0.1")
    event("ldap", "refused", dt.datetime(2026, 3, 2, 23, 59, tzinfo=zone), identifier="ghost", reason="unknown",
          ip_address="10.0.0.2")
    event("activation", "success", dt.datetime(2026, 3, 3, 0, 0, tzinfo=zone), employee=org.outsider,
          identifier="E002")


def rows(response):
    return [(e.method, e.outcome, e.identifier) for e in response.context["page"]]


@pytest.mark.parametrize("who", ["admin", "auditor"])
def test_admins_and_auditors_read_the_log_with_every_column(org, events, client_for, who):
    response = client_for(getattr(org, who)).get(reverse("accounts:signin_log"))
    assert response.status_code == 200
    assert rows(response) == [("activation", "success", "E002"), ("ldap", "refused", "ghost"),
                              ("password", "success", "learner")]
    page = response.content.decode()
    assert "2026-03-02 23:59:00" in page and "10.0.0.2" in page and ">unknown<" in page
    assert "No active employee in learntrace matches this account." in page
    assert "Learner in cardiology" in page


@pytest.mark.parametrize("who", ["learner", "head"])
def test_others_may_not_read_the_log(org, client_for, who):
    assert client_for(getattr(org, who)).get(reverse("accounts:signin_log")).status_code == 403


def test_the_log_filters_by_method_outcome_and_days_in_the_local_time_zone(org, events, client_for):
    client = client_for(org.admin)
    url = reverse("accounts:signin_log")
    assert rows(client.get(url, {"method": "ldap"})) == [("ldap", "refused", "ghost")]
    assert rows(client.get(url, {"outcome": "success"})) == [("activation", "success", "E002"),
                                                             ("password", "success", "learner")]
    assert rows(client.get(url, {"date_from": "2026-03-02", "date_to": "2026-03-02"})) == [
        ("ldap", "refused", "ghost")]
    assert rows(client.get(url, {"date_from": "2026-03-03"})) == [("activation", "success", "E002")]


def test_bad_filters_are_a_clear_error_not_a_500(org, events, client_for):
    client = client_for(org.admin)
    response = client.get(reverse("accounts:signin_log"), {"method": "telepathy", "date_from": "yesterday"})
    assert response.status_code == 200 and response.context["form"].errors["method"]
    response = client.get(reverse("accounts:signin_log"), {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert b"The first day is after the last day." in response.content


def test_the_log_is_paginated(org, client_for):
    SignInEvent.objects.bulk_create([SignInEvent(method="password", outcome="refused", identifier=f"u{n}")
                                     for n in range(120)])
    client = client_for(org.admin)
    first = client.get(reverse("accounts:signin_log"))
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.num_pages == 3
    assert len(client.get(reverse("accounts:signin_log"), {"page": 3}).context["page"].object_list) == 20


def test_the_log_is_in_the_navigation_of_admins_and_auditors_only(org, client_for):
    link = reverse("accounts:signin_log").encode()
    assert link in client_for(org.auditor).get(reverse("home:home")).content
    assert link not in client_for(org.learner).get(reverse("home:home")).content


def test_the_employee_page_lists_linked_accounts_and_the_admin_unlinks_one(org, client_for):
    identity = LinkedIdentity.objects.create(employee=org.learner, method="dingtalk", subject="ding-77")
    auditor = client_for(org.auditor)
    page = auditor.get(reverse("org:employee", args=[org.learner.pk])).content.decode()
    assert "ding-77" in page and reverse("accounts:unlink_identity", args=[identity.pk]) not in page
    assert auditor.post(reverse("accounts:unlink_identity", args=[identity.pk])).status_code == 403
    admin = client_for(org.admin)
    assert reverse("accounts:unlink_identity", args=[identity.pk]) in \
        admin.get(reverse("org:employee", args=[org.learner.pk])).content.decode()
    assert admin.get(reverse("accounts:unlink_identity", args=[identity.pk])).status_code == 405
    response = admin.post(reverse("accounts:unlink_identity", args=[identity.pk]))
    assert response["Location"] == reverse("org:employee", args=[org.learner.pk])
    assert not LinkedIdentity.objects.exists()
    entry = AuditEntry.objects.get(action="identity.unlink")
    assert (entry.actor_id, entry.object_id) == (org.admin.user_id, str(org.learner.pk))
    assert "ding-77" in entry.summary
    assert admin.post(reverse("accounts:unlink_identity", args=[identity.pk])).status_code == 404


def test_unlinking_needs_the_csrf_token(org, client_for):
    from django.test import Client

    identity = LinkedIdentity.objects.create(employee=org.learner, method="cas", subject="E001")
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin.user)
    assert client.post(reverse("accounts:unlink_identity", args=[identity.pk])).status_code == 403
    assert LinkedIdentity.objects.filter(pk=identity.pk).exists()
