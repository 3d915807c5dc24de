"""Revoking a certificate in the browser, in both languages: the admin opens the certificate, confirms
with a reason, and the public check then says it was revoked; every page passes axe-core's WCAG 2.1 AA."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.certificates.models import CertificateKind, Revocation
from test_browser import log_in
from test_certificate_revocation import issued, make_exam_centre

TEXT = {
    "en": {"open": "Revoke this certificate", "reason": "reason", "revoke": "Revoke", "done": "Certificate revoked.",
           "revoked": "Revoked on {day}: {reason}", "badge": "Revoked"},
    "zh-hans": {"open": "吊销此证书", "reason": "原因", "revoke": "吊销", "done": "证书已吊销。",
                "revoked": "已于 {day} 吊销：{reason}", "badge": "已吊销"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_revokes_a_certificate_and_the_public_check_shows_it(live_server, org, catalog, new_page, language):
    centre = make_exam_centre(catalog.management)
    kind = CertificateKind.objects.create(title="Ward safety certificate", exam=centre.exam, valid_months=12)
    certificate = issued(kind, org.learner, "BROWSER1")
    words = TEXT[language]
    reason = "Exam taken by someone else" if language == "en" else "考试由他人代考"
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/", timeout=60_000)  # a cold server's first page may be slow
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/certificates/{certificate.pk}/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=words["open"]).click()
    expect(page.locator("h1")).to_contain_text("Ward safety certificate")
    assert axe_violations(page) == []
    page.get_by_role("button", name=words["revoke"], exact=True).click()  # no reason: refused, nothing written
    assert not Revocation.objects.exists()
    page.get_by_label(words["reason"]).fill(reason)
    page.get_by_role("button", name=words["revoke"], exact=True).click()
    expect(page.get_by_text(words["done"])).to_be_visible()
    revocation = Revocation.objects.get()
    assert (revocation.certificate_id, revocation.reason, revocation.actor) == (certificate.pk, reason,
                                                                                org.admin.user)
    day = timezone.localtime(revocation.revoked_at).strftime("%Y-%m-%d")
    expect(page.locator("dl.facts")).to_contain_text(words["revoked"].format(day=day, reason=reason))
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/certificates/verify/{certificate.code}/")
    expect(page.locator("#certificate-check")).to_have_attribute("data-status", "revoked")
    expect(page.locator("#certificate-check .badge")).to_have_text(words["badge"])
    expect(page.locator("#revocation")).to_have_text(words["revoked"].format(day=day, reason=reason))
    assert axe_violations(page) == []
