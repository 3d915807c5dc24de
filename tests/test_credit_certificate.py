"""The per-person, per-year credit certificate (学分证明) PDF."""

import datetime as dt
import io
from decimal import Decimal

from django.urls import reverse
from pypdf import PdfReader

from learntrace.records.models import Completion
from learntrace.records.services import record_completion, void_completion


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_certificate_lists_the_year_s_credits_that_count(org, catalog, client_for):
    org.root.employer = "City Hospital"
    org.root.save()
    org.learner.national_id = "11010519491231002X"
    org.learner.save()
    catalog.video.project_number, catalog.video.credit_hours = "2026-03-01-012", Decimal("6")
    catalog.video.save()
    may = dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC)
    kept = record_completion(employee=org.learner, course=catalog.video, completed_at=may, source="manual")
    voided = record_completion(employee=org.learner, course=catalog.clinical_video, completed_at=may, source="manual")
    void_completion(actor=org.admin.user, completion=voided, reason="entered twice")
    record_completion(employee=org.learner, course=catalog.meeting, completed_at=may.replace(year=2025),
                      source="manual")
    response = client_for(org.learner).get(reverse("trainingfile:my_certificate", args=[2026]), {"lang": "en"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "credits-2026-E001-en.pdf" in response["Content-Disposition"]
    shown = pdf_text(response.content)
    assert "Continuing-education credit certificate 2026" in shown
    assert "City Hospital" in shown and "Cardiology" in shown and "11010519491231002X" not in shown
    assert "national ID number: 1101**********002X" in shown  # masked
    assert f"2026-05-10\nLeading a ward\n2026-03-01-012\nCME class I\n2.00\n6.0\n{kept.certificate_number}" in shown
    assert "Sepsis update" not in shown and "Monthly management meeting" not in shown  # voided; 2025
    assert "Total: 2.00 credits (CME class I 2.00)." in shown
    assert kept.certificate_number == f"LT2026{kept.pk:08d}"
    chinese = client_for(org.learner).get(reverse("trainingfile:my_certificate", args=[2026]), {"lang": "zh-hans"})
    assert chinese.status_code == 200 and b"STSong-Light" in chinese.content


def test_who_may_download_a_certificate(org, catalog, client_for):
    record_completion(employee=org.learner, course=catalog.video, completed_at=dt.datetime(2026, 5, 10, tzinfo=dt.UTC),
                      source="manual")
    url = reverse("trainingfile:certificate", args=[org.learner.pk, 2026])
    assert client_for(org.outsider).get(url).status_code == 404
    assert client_for(org.head).get(url).status_code == 200  # the learner's department head
    assert client_for(org.head).get(reverse("trainingfile:certificate", args=[org.learner.pk, 1999])).status_code \
        == 404
    page = client_for(org.learner).get(reverse("trainingfile:my_file")).content.decode()
    assert reverse("trainingfile:my_certificate", args=[2026]) + "?lang=zh-hans" in page
    assert Completion.objects.count() == 1
