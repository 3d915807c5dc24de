"""The training file and its transcript PDF."""

import datetime as dt

import pytest
from django.urls import reverse

from learntrace.evidence import keys
from learntrace.evidence import services as evidence
from learntrace.records.services import record_completion, record_credited_time

T0 = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)


def history(org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=2 * 3600, occurred_at=T0)
    record_credited_time(employee=org.learner, course=catalog.meeting, seconds=3600, occurred_at=T0,
                         source="checkin")
    record_completion(employee=org.learner, course=catalog.clinical_video, completed_at=T0, source="manual")
    record_completion(employee=org.learner, course=catalog.video,
                      completed_at=dt.datetime(2025, 6, 1, 2, 0, tzinfo=dt.UTC), source="imported")


def test_the_file_lists_years_hours_credits_and_the_seal(org, client_for, catalog):
    history(org, catalog)
    page = client_for(org.learner).get(reverse("records:my_file")).text
    assert "No record of this person has been sealed yet." in page
    seal = evidence.seal_pending()[-1]
    page = client_for(org.learner).get(reverse("records:my_file")).text
    assert f"Sealed up to seal {seal.number}" in page
    years = page.split('class="years"')[1].split("</table>")[0]
    assert "2026" in years and "2025" in years and "3.0" in years  # 2 h video + 1 h meeting in 2026
    assert "Sepsis update" in page and "Imported history" in page


def test_the_transcript_pdf_in_both_languages(org, client_for, catalog):
    history(org, catalog)
    evidence.seal_pending()
    client = client_for(org.learner)
    for language in ("zh-hans", "en"):
        response = client.get(reverse("records:my_transcript"), {"lang": language})
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and len(response.content) > 1500
        assert f"transcript-{org.learner.employee_no}-{language}.pdf" in response["Content-Disposition"]
    chinese = client.get(reverse("records:my_transcript"), {"lang": "zh-hans"}).content
    assert b"STSong-Light" in chinese  # the Chinese CID font is used
    assert client.get(reverse("records:my_transcript"), {"lang": "xx"}).status_code == 200


def test_the_file_follows_the_role_boundaries(org, client_for, catalog):
    history(org, catalog)
    assert client_for(org.head).get(reverse("records:file", args=[org.learner.pk])).status_code == 200
    assert client_for(org.outsider).get(reverse("records:file", args=[org.learner.pk])).status_code == 404
    assert client_for(org.head).get(reverse("records:transcript", args=[org.outsider.pk])).status_code == 404
    assert client_for(org.auditor).get(reverse("records:transcript", args=[org.learner.pk])).status_code == 200


@pytest.fixture
def key_in_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_SIGNING_KEY_FILE", str(tmp_path / "not-mounted" / "evidence-signing.pem"))
    keys._private_key_for.cache_clear()
    yield
    keys._private_key_for.cache_clear()


def test_a_signing_key_missing_on_this_server_answers_404_with_the_reason(org, client_for, catalog,
                                                                          key_in_a_missing_folder):
    reason = "The evidence signing key cannot be read on this server. Please tell the administrator."
    response = client_for(org.learner).get(reverse("records:my_bundle"))
    assert response.status_code == 404 and reason in response.text
    response = client_for(org.auditor).get(reverse("evidence:public_key"))
    assert response.status_code == 404 and reason in response.text


def test_a_bundle_for_dates_beyond_the_calendar_is_refused(org, client_for):
    response = client_for(org.learner).get(reverse("records:my_bundle"), {"to": "9999-12-31"})
    assert response.status_code == 400 and response.json() == {"error": "Give the dates as 2026-01-31."}
