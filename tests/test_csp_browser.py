"""The Content-Security-Policy in a real browser: the pages, the player, check-in, the charts
and Swagger UI work under it without a single violation, and a course's PDF renders in its
frame (the one response that this site may frame) while reading time counts only while visible."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import PASSWORD
from test_browser import log_in

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI + " " + event.sourceFile);
});
"""


def watched(page):
    """A page that records every CSP violation and every console error."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    return page


def violations(page):
    """Violations seen by the page's listener, and the browser's own reports of refused content."""
    refused = [text for text in page.console_errors if "Content Security Policy" in text or "Refused" in text]
    return page.evaluate("() => window.__cspViolations"), refused


def child_frame(page, parent, url_prefix):
    """The frame inside `parent` whose address starts with `url_prefix`, once it is attached."""
    for _ in range(100):
        found = [f for f in parent.child_frames if f.url.startswith(url_prefix)]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no frame {url_prefix} in {parent.url}")


@pytest.fixture
def tracked_document(catalog, settings):
    from django.core.files import File

    import learntrace.demo
    from learntrace.catalog.models import Course, CourseKind

    settings.TRACKER_BEAT_MS = 1000
    course = Course(title="Handbook", kind=CourseKind.DOCUMENT, category=catalog.management, duration_seconds=600,
                    is_published=True)
    with (Path(learntrace.demo.__file__).parent / "media" / "compliance-handbook.pdf").open("rb") as handle:
        course.document_file.save("compliance-handbook.pdf", File(handle), save=False)
    course.save()
    return course


def server_credited_ms(employee, course):
    from learntrace.records.models import CourseProgress

    progress = CourseProgress.objects.filter(employee=employee, course=course).first()
    return progress.credited_ms if progress else 0


def queue_empty(page):
    page.wait_for_function("() => JSON.parse(localStorage.getItem('learntrace-beats') || '[]').length === 0")


def hide(page, hidden):
    page.evaluate("""hidden => {
        Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
        Object.defineProperty(document, 'visibilityState', {value: hidden ? 'hidden' : 'visible', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_the_pdf_renders_in_its_frame_and_reading_counts_only_while_visible(live_server, org, new_page,
                                                                            tracked_document):
    page = watched(new_page())
    log_in(page, live_server.url, "learner", "en")
    document_url = f"{live_server.url}/catalog/courses/{tracked_document.pk}/document.pdf"
    with page.expect_response(document_url) as framed:
        page.goto(f"{live_server.url}/catalog/courses/{tracked_document.pk}/")
    assert framed.value.status == 200
    assert framed.value.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in framed.value.headers["content-security-policy"]

    # Chromium's PDF viewer took the frame and opened the document in its plugin (a refused frame
    # shows an error page instead, with neither the viewer nor the plugin).
    framed_document = page.locator("iframe.document-frame").element_handle().content_frame()
    assert framed_document.url == document_url
    expect(page.locator("iframe.document-frame")).to_be_visible()
    viewer = child_frame(page, framed_document, "chrome-extension:")
    expect(viewer.locator("pdf-viewer")).to_have_count(1)
    plugin = child_frame(page, viewer, document_url)
    plugin.wait_for_function("() => document.querySelector('embed[type=\"application/x-google-chrome-pdf\"]')")
    assert plugin.url == document_url

    # Visible: reading time is credited.
    page.wait_for_function("() => Number(document.querySelector('.tracker-indicator')"
                           ".getAttribute('data-credited-ms')) >= 2000")
    # Hidden: whatever time passes, nothing more is credited.
    hide(page, True)
    queue_empty(page)
    credited_when_hidden = server_credited_ms(org.learner, tracked_document)
    assert credited_when_hidden >= 2000
    page.wait_for_timeout(3000)  # three beats' worth of time, hidden
    queue_empty(page)
    assert server_credited_ms(org.learner, tracked_document) == credited_when_hidden
    # Visible again: it counts again.
    hide(page, False)
    page.wait_for_function(f"() => Number(document.querySelector('.tracker-indicator')"
                           f".getAttribute('data-credited-ms')) > {credited_when_hidden}")
    assert server_credited_ms(org.learner, tracked_document) > credited_when_hidden
    assert violations(page) == ([], [])


def test_other_sites_and_other_pages_may_not_frame(client_for, org, tracked_document):
    client = client_for(org.learner)
    page = client.get(reverse("catalog:course", args=[tracked_document.pk]))
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    document = client.get(reverse("catalog:course_document", args=[tracked_document.pk]))
    assert document["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self';" in document["Content-Security-Policy"] + ";"
    assert "frame-ancestors 'none'" not in document["Content-Security-Policy"]


def test_the_video_player_credits_time_without_violations(live_server, org, new_page, catalog, settings):
    from django.core.files import File

    import learntrace.demo
    from learntrace.catalog.models import Course, CourseKind

    settings.TRACKER_BEAT_MS = 1000
    video = Course(title="Segment one", kind=CourseKind.VIDEO, category=catalog.management, duration_seconds=900,
                   is_published=True)
    name = "strategic-management-part1.webm"
    with (Path(learntrace.demo.__file__).parent / "media" / name).open("rb") as handle:
        video.video_file.save(name, File(handle), save=False)
    video.save()
    page = watched(new_page())
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{video.pk}/")
    expect(page.locator("[data-tracker]")).to_have_attribute("data-attempt", re.compile(r"^[0-9a-f-]{36}$"))
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => Number(document.querySelector('.tracker-indicator')"
                           ".getAttribute('data-credited-ms')) >= 2000")
    assert server_credited_ms(org.learner, video) >= 2000
    assert violations(page) == ([], [])


def test_check_in_with_location_and_signature_without_violations(live_server, org, catalog, new_page):
    from datetime import timedelta

    from django.utils import timezone

    from learntrace.checkin.models import Attendance, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + timedelta(hours=2), latitude=31.23, longitude=121.47,
                                     radius_m=500, signature_required=True, roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.learner])
    projector = watched(new_page())
    log_in(projector, live_server.url, "admin", "en")
    projector.goto(f"{live_server.url}/checkin/meetings/{meeting.pk}/projector/")
    expect(projector.locator(".qr svg")).to_be_visible()
    scan_url = projector.locator(".qr").get_attribute("data-url")

    phone = watched(new_page(phone=True))
    phone.context.grant_permissions(["geolocation"])
    phone.context.set_geolocation({"latitude": 31.2301, "longitude": 121.4701})
    phone.goto(scan_url)
    phone.fill("#id_username", "learner")
    phone.fill("#id_password", PASSWORD)
    phone.locator("button[type=submit]").click()
    expect(phone.locator("#checkin-form")).to_have_attribute("data-ready", "1")
    pad = phone.locator("#signature-pad")
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 20)
    phone.mouse.down()
    phone.mouse.move(box["x"] + 200, box["y"] + 120, steps=8)
    phone.mouse.up()
    phone.get_by_role("button", name=re.compile("签到|Check in")).click()
    expect(phone.locator("#checkin-result")).to_have_attribute("data-outcome", "done")
    attendance = Attendance.objects.get(meeting=meeting, employee=org.learner)
    assert attendance.signature.startswith("data:image/png")
    expect(projector.locator("#live-count")).to_have_text("1", timeout=10_000)

    projector.goto(f"{live_server.url}/checkin/meetings/{meeting.pk}/")
    expect(projector.locator("img.signature")).to_be_visible()
    assert violations(phone) == ([], [])
    assert violations(projector) == ([], [])


def test_the_main_pages_and_swagger_ui_show_no_violation(live_server, org, catalog, new_page):
    from reports_fixtures import hospital_month

    hospital_month(org, catalog)
    page = watched(new_page())
    log_in(page, live_server.url, "admin", "en")
    pages = [
        reverse("home:home"), reverse("plans:my"), reverse("catalog:courses"),
        reverse("catalog:course", args=[catalog.video.pk]), reverse("plans:team"), reverse("compliance:outcomes"),
        reverse("reports:dashboard") + "?period=all", reverse("reports:courses"),
        reverse("reports:course", args=[catalog.video.pk]), reverse("plans:plans"), reverse("checkin:meetings"),
        reverse("trainingfile:my_file"), reverse("org:me"), reverse("org:departments"), reverse("org:employees"),
        reverse("org:import"), reverse("home:audit"), reverse("evidence:overview"), reverse("api:tokens"),
        reverse("notify:deliveries"), reverse("home:system"), reverse("api:credit_export"),
        reverse("tracking:course_learners", args=[catalog.video.pk]),
        reverse("tracking:learner_detail", args=[catalog.video.pk, org.learner.pk]),
    ]
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
    page.goto(live_server.url + reverse("reports:dashboard") + "?period=all")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.goto(live_server.url + reverse("compliance:outcomes"))
    with page.expect_navigation():  # the plan filter sends its form, from a static script
        page.select_option("#plan", index=0)

    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    page.locator(".opblock-summary").first.click()
    found = violations(page)
    assert found == ([], []), json.dumps(found)


def test_the_django_admin_shows_no_violation(live_server, org, new_page):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    page = watched(new_page())
    log_in(page, live_server.url, "root", "en")
    for path in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{root.pk}/change/", "/admin/auth/user/add/"):
        assert page.goto(live_server.url + path).status == 200, path
        page.wait_for_load_state("load")
    assert violations(page) == ([], [])
