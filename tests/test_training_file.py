"""The training file and its transcript PDF."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader
from reportlab import rl_config

from learntrace.checkin.models import Attendance, Meeting
from learntrace.evidence import keys
from learntrace.evidence import services as evidence
from learntrace.records.services import record_completion, record_credited_time
from local_server import JsonHandler, LocalServer

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
    page = client_for(org.learner).get(reverse("trainingfile:my_file")).text
    assert "No record of this person has been sealed yet." in page
    seal = evidence.seal_pending()[-1]
    page = client_for(org.learner).get(reverse("trainingfile:my_file")).text
    assert f"Sealed up to seal {seal.number}" in page
    years = page.split('class="years"')[1].split("</table>")[0]
    assert "2026" in years and "2025" in years and "3.0" in years  # 2 h video + 1 h meeting in 2026
    assert "Sepsis update" in page and "Imported history" in page


def test_the_transcript_pdf_in_both_languages(org, client_for, catalog):
    history(org, catalog)
    evidence.seal_pending()
    client = client_for(org.learner)
    for language in ("zh-hans", "en"):
        response = client.get(reverse("trainingfile:my_transcript"), {"lang": language})
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and len(response.content) > 1500
        assert f"transcript-{org.learner.employee_no}-{language}.pdf" in response["Content-Disposition"]
    chinese = client.get(reverse("trainingfile:my_transcript"), {"lang": "zh-hans"}).content
    assert b"STSong-Light" in chinese  # the Chinese CID font is used
    assert client.get(reverse("trainingfile:my_transcript"), {"lang": "xx"}).status_code == 200


def test_the_file_follows_the_role_boundaries(org, client_for, catalog):
    history(org, catalog)
    assert client_for(org.head).get(reverse("trainingfile:file", args=[org.learner.pk])).status_code == 200
    assert client_for(org.outsider).get(reverse("trainingfile:file", args=[org.learner.pk])).status_code == 404
    assert client_for(org.head).get(reverse("trainingfile:transcript", args=[org.outsider.pk])).status_code == 404
    assert client_for(org.auditor).get(reverse("trainingfile:transcript", args=[org.learner.pk])).status_code == 200


@pytest.fixture
def key_in_a_missing_folder(tmp_path, settings):
    settings.EVIDENCE_SIGNING_KEY_FILE = tmp_path / "not-mounted" / "evidence-signing.pem"
    keys._private_key_for.cache_clear()
    yield
    keys._private_key_for.cache_clear()


def test_a_signing_key_missing_on_this_server_answers_404_with_the_reason(org, client_for, catalog,
                                                                          key_in_a_missing_folder):
    reason = "The evidence signing key cannot be read on this server. Please tell the administrator."
    response = client_for(org.learner).get(reverse("trainingfile:my_bundle"))
    assert response.status_code == 404 and reason in response.text
    response = client_for(org.auditor).get(reverse("evidence:public_key"))
    assert response.status_code == 404 and reason in response.text
    overview = client_for(org.auditor).get(reverse("evidence:overview"))
    assert overview.status_code == 200 and reason in overview.text


def test_a_bundle_for_dates_beyond_the_calendar_is_refused(org, client_for):
    response = client_for(org.learner).get(reverse("trainingfile:my_bundle"), {"to": "9999-12-31"})
    assert response.status_code == 400 and response.json() == {"error": "Give the dates as 2026-01-31."}


class RecordingServer(LocalServer):
    """A local HTTP server that records every request it receives."""

    def __init__(self):
        received = self.received = []

        class Handler(JsonHandler):
            def do_GET(self):
                received.append(self.path)
                self.send_response(404)
                self.end_headers()

        super().__init__(Handler)


@pytest.fixture
def recorder():
    server = RecordingServer().start()
    yield server
    server.stop()


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_transcript_shows_markup_in_data_as_text_and_fetches_nothing(org, client_for, catalog, recorder,
                                                                         tmp_path, monkeypatch):
    # A deployment that trusts a host for images must still load nothing named by data.
    monkeypatch.setattr(rl_config, "trustedHosts", ["127.0.0.1"])
    picture = tmp_path / "on-disk.png"
    picture.write_bytes(b"not a picture")
    texts = {
        "name": "<i>Wang</i> & <b>Li",
        "position": '<link href="http://evil.example">Verify here</link>',
        "department": '<script>alert(1)</script> <svg onload="x">',
        "course": f'<img src="{recorder.url}/course.png" width="9" height="9"/>',
        "meeting": f'<img src="{picture}" width="9" height="9"/> <font name="Nope">x</font>',
        "category": f'<a href="{recorder.url}/category">Category</a>',
    }
    org.a1.name = texts["department"]
    org.a1.save()
    org.learner.name, org.learner.position = texts["name"], texts["position"]
    org.learner.save()
    catalog.clinical_video.title = texts["course"]
    catalog.clinical_video.save()
    catalog.clinical.name_en = catalog.clinical.name = texts["category"]
    catalog.clinical.save()
    meeting = Meeting.objects.create(course=catalog.meeting, title=texts["meeting"], starts_at=T0,
                                     ends_at=T0 + dt.timedelta(hours=1), roster=Meeting.Roster.OPEN)
    Attendance.objects.create(meeting=meeting, employee=org.learner, status="on_time", method="scan",
                              credited_seconds=3600)
    history(org, catalog)
    for employee, client in ((org.learner, client_for(org.learner)), (org.learner, client_for(org.head))):
        for language in ("en", "zh-hans"):
            url = reverse("trainingfile:transcript", args=[employee.pk])
            response = client.get(url, {"lang": language})
            assert response.status_code == 200, language
            assert b"/URI" not in response.content and b"/Annots" not in response.content  # no live link
            assert b"/Subtype /Image" not in response.content  # no picture
            if language == "en":
                shown = pdf_text(response.content)
                for value in texts.values():
                    assert value.replace(" ", "") in shown.replace(" ", "").replace("\n", ""), value
    assert recorder.received == []


def test_an_employee_number_with_quotes_or_line_breaks_names_downloads_safely(org, client_for, catalog):
    org.learner.employee_no = 'E"1; x\r\nSet-Cookie: a=b'
    org.learner.save()
    client = client_for(org.learner)
    transcript = client.get(reverse("trainingfile:my_transcript"), {"lang": "en"})
    assert transcript.status_code == 200
    assert transcript["Content-Disposition"] == 'attachment; filename="transcript-E_1_x_Set-Cookie_a_b-en.pdf"'
    assert not transcript.has_header("Set-Cookie") or "a=b" not in transcript["Set-Cookie"]
    bundle = client.get(reverse("trainingfile:my_bundle"))
    assert bundle.status_code == 200
    assert bundle["Content-Disposition"] == 'attachment; filename="evidence-E_1_x_Set-Cookie_a_b.json"'
    org.learner.employee_no = "工号7"
    org.learner.save()
    assert client.get(reverse("trainingfile:my_bundle"))["Content-Disposition"] == \
        "attachment; filename*=utf-8''evidence-%E5%B7%A5%E5%8F%B77.json"
