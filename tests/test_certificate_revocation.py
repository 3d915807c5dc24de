"""Revoking a certificate: a training admin gives a reason on a confirm page, the revocation is a
sealed fact of its own, the public check says "revoked on …: reason", reminders stop, and the API
lists certificates with their revocation."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from exam_fixtures import make_exam_centre
from learntrace.certificates import reminders, services
from learntrace.certificates.models import Certificate, CertificateKind, Revocation
from learntrace.core.models import AuditEntry
from learntrace.evidence import services as evidence
from learntrace.exams.models import ExamResult, Sitting
from learntrace.notify.models import ChannelKind, Delivery
from notify_helpers import channel

ISSUED = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai


def issued(kind, employee, code, *, at=ISSUED, expires_at=None) -> Certificate:
    exam = kind.exam
    number = Sitting.objects.filter(exam=exam, employee=employee).count() + 1
    sitting = Sitting.objects.create(exam=exam, employee=employee, number=number, started_at=at, deadline=at,
                                     ended_at=at, ending="submitted")
    result = ExamResult.objects.create(
        sitting=sitting, employee=employee, exam=exam, number=number, answers={}, points=1, max_points=1, score=100,
        passed=True, ending="submitted", hidden_count=0, started_at=at, submitted_at=at)
    return Certificate.objects.create(kind=kind, employee=employee, code=code, title=kind.title, exam_result=result,
                                      issued_at=at, expires_at=expires_at or at + dt.timedelta(days=365))


@pytest.fixture
def kind(org, catalog):
    centre = make_exam_centre(catalog.management)
    return CertificateKind.objects.create(title="Ward safety certificate", exam=centre.exam, valid_months=12,
                                          remind_days_before=[30, 7])


def test_an_admin_revokes_a_certificate_with_a_reason_and_the_public_check_says_so(client_for, kind, org):
    certificate = issued(kind, org.learner, "REVOKEME")
    client = client_for(org.admin)
    detail = client.get(f"/certificates/{certificate.pk}/").content.decode()
    assert f'href="/certificates/{certificate.pk}/revoke/"' in detail
    confirm = client.get(f"/certificates/{certificate.pk}/revoke/")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.content.decode()
    refused = client.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "   "})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert not Revocation.objects.exists()
    assert client.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "x" * 501}).status_code == 200
    assert not Revocation.objects.exists()  # too long: refused, nothing written

    response = client.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "Exam taken by someone else"})
    assert response.status_code == 302 and response.url == f"/certificates/{certificate.pk}/"
    revocation = Revocation.objects.get()
    assert (revocation.certificate, revocation.employee, revocation.reason, revocation.actor) == (
        certificate, org.learner, "Exam taken by someone else", org.admin.user)
    entry = AuditEntry.objects.get(action="revoke")
    assert (entry.actor, entry.object_type, entry.object_id) == (org.admin.user, "certificate", str(certificate.pk))
    day = timezone.localtime(revocation.revoked_at).strftime("%Y-%m-%d")
    # A second revocation (another tab, a double click) changes nothing.
    client.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "again"})
    assert Revocation.objects.count() == 1 and AuditEntry.objects.filter(action="revoke").count() == 1
    assert "revoke/" not in client.get(f"/certificates/{certificate.pk}/").content.decode()

    pdf = client_for(org.learner).get(f"/certificates/{certificate.pk}/certificate.pdf")
    assert pdf.status_code == 302 and pdf.url == f"/certificates/{certificate.pk}/"  # not printed any more
    mine = client_for(org.learner).get("/certificates/mine/").content.decode()
    assert "certificate.pdf" not in mine and f"Revoked on {day}: Exam taken by someone else" in mine
    anyone = Client()
    anyone.cookies["django_language"] = "en"
    page = anyone.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert 'data-status="revoked"' in page and f"Revoked on {day}: Exam taken by someone else" in page
    anyone.cookies["django_language"] = "zh-hans"
    page = anyone.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert f"已于 {day} 吊销：Exam taken by someone else" in page and "已吊销" in page


def test_only_training_admins_revoke_and_only_with_the_csrf_token(client_for, kind, org):
    certificate = issued(kind, org.learner, "GUARDED1")
    for person in (org.learner, org.head, org.auditor):
        client = client_for(person)
        assert client.get(f"/certificates/{certificate.pk}/revoke/").status_code == 403
        assert client.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "no"}).status_code == 403
        assert "revoke/" not in client.get(f"/certificates/{certificate.pk}/").content.decode()
    assert Client().get(f"/certificates/{certificate.pk}/revoke/").status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(org.admin.user)
    assert strict.post(f"/certificates/{certificate.pk}/revoke/", {"reason": "no token"}).status_code == 403
    assert client_for(org.admin).post("/certificates/999999/revoke/", {"reason": "none"}).status_code == 404
    assert not Revocation.objects.exists()


def test_the_revocation_is_sealed_and_both_facts_verify(kind, org):
    certificate = issued(kind, org.learner, "SEALED01")
    revocation = services.revoke(actor=org.admin.user, certificate=certificate, reason="Issued in error",
                                 now=ISSUED + dt.timedelta(days=3))
    with pytest.raises(services.AlreadyRevoked):
        services.revoke(actor=org.admin.user, certificate=certificate, reason="twice")
    evidence.seal_pending(via="test")
    assert evidence.unsealed_count() == 0
    assert evidence.verify_fact(9, certificate.pk) and evidence.verify_fact(10, revocation.pk)
    anyone = Client()
    anyone.cookies["django_language"] = "en"
    page = anyone.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert "the sealed record matches" in page and "Revoked on 2026-03-05: Issued in error" in page
    Revocation.objects.filter(pk=revocation.pk).update(reason="Changed afterwards")
    assert not evidence.verify_fact(10, revocation.pk)


def test_a_revoked_certificate_is_reminded_of_no_more(kind, org):
    inbox = channel(ChannelKind.INAPP)
    kind.channels.add(inbox)
    certificate = issued(kind, org.learner, "REMIND01", expires_at=ISSUED + dt.timedelta(days=30))
    services.revoke(actor=org.admin.user, certificate=certificate, reason="Withdrawn")
    assert reminders.send_due(now=ISSUED) == 0 and not Delivery.objects.exists()
    other = issued(kind, org.outsider, "REMIND02", expires_at=ISSUED + dt.timedelta(days=30))
    assert reminders.send_due(now=ISSUED) == 1  # the outsider's is still reminded (no head over surgery)
    assert Delivery.objects.get().key.startswith(f"certificate:{other.pk}:30:")
    # Nor is it listed among those coming up for renewal (the admins' list).
    Certificate.objects.update(expires_at=timezone.now() + dt.timedelta(days=30))
    listed = Client()
    listed.force_login(org.admin.user)
    expiring = listed.get("/certificates/?show=expiring").content.decode()
    assert f'href="/certificates/{other.pk}/"' in expiring and f'href="/certificates/{certificate.pk}/"' not in expiring


def test_a_revoked_renewal_does_not_silence_the_reminder_of_the_one_before(kind, org):
    inbox = channel(ChannelKind.INAPP)
    kind.channels.add(inbox)
    issued(kind, org.outsider, "OLDER001", expires_at=ISSUED + dt.timedelta(days=30))
    renewal = issued(kind, org.outsider, "NEWER001", at=ISSUED, expires_at=ISSUED + dt.timedelta(days=400))
    assert reminders.send_due(now=ISSUED) == 0  # renewed: no reminder
    services.revoke(actor=org.admin.user, certificate=renewal, reason="Exam annulled")
    assert reminders.send_due(now=ISSUED) == 1


def test_the_api_lists_certificates_with_their_revocation_by_cursor(client_for, kind, org):
    first = issued(kind, org.learner, "APICERT1")
    second = issued(kind, org.outsider, "APICERT2")
    third = issued(kind, org.head, "APICERT3", expires_at=ISSUED + dt.timedelta(days=1))
    client = client_for(org.admin)
    rows = client.get("/api/v1/certificates").json()["items"]
    assert [(r["code"], r["employee_no"], r["status"], r["revoked_at"], r["revocation_reason"]) for r in rows] == [
        ("APICERT1", "E001", "valid", None, None), ("APICERT2", "E002", "valid", None, None),
        ("APICERT3", "H001", "expired", None, None)]
    assert rows[0]["expires_at"] == "2027-03-02T03:00:00Z" and rows[0]["exam_result_id"] == first.exam_result_id
    before = timezone.now()
    revocation = services.revoke(actor=org.admin.user, certificate=second, reason="Annulled",
                                 now=dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC))
    changed = client.get("/api/v1/certificates", {"updated_since": before.isoformat()}).json()["items"]
    assert [(r["code"], r["status"], r["revoked_at"], r["revocation_reason"]) for r in changed] == [
        ("APICERT2", "revoked", "2026-05-01T02:00:00Z", "Annulled")]
    recorded = revocation.recorded_at
    assert dt.datetime.fromisoformat(changed[0]["updated_at"]) == recorded.replace(
        microsecond=recorded.microsecond // 1000 * 1000)  # the API writes milliseconds
    # By cursor, one a page: the revoked one last, as it changed last.
    codes, cursor = [], None
    while True:
        page = client.get("/api/v1/certificates", {"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        codes += [r["code"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert codes == ["APICERT1", "APICERT3", "APICERT2"]
    # A head reads their subtree; a learner their own.
    assert [r["code"] for r in client_for(org.head).get("/api/v1/certificates").json()["items"]] == [
        "APICERT1", "APICERT3"]
    assert [r["code"] for r in client_for(org.learner).get("/api/v1/certificates").json()["items"]] == ["APICERT1"]
    bad = client.get("/api/v1/certificates", {"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"].keys() == {"cursor"}
    assert third.pk


def test_the_person_page_and_the_training_file_show_the_revocation(client_for, kind, org):
    kept = issued(kind, org.learner, "HELD0001")
    revoked = issued(kind, org.learner, "HELD0002", at=ISSUED + dt.timedelta(days=1))
    services.revoke(actor=org.admin.user, certificate=revoked, reason="Annulled by the board",
                    now=dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC))
    for client, url in ((client_for(org.head), f"/org/employees/{org.learner.pk}/"),
                        (client_for(org.head), f"/records/people/{org.learner.pk}/"),
                        (client_for(org.learner), "/records/me/")):
        page = client.get(url).content.decode()
        assert f'href="/certificates/{kept.pk}/"' in page and f'href="/certificates/{revoked.pk}/"' in page, url
        assert page.count("Revoked on 2026-04-01: Annulled by the board") == 1, url
    assert client_for(org.outsider).get(f"/records/people/{org.learner.pk}/").status_code in (403, 404)
