"""The player with files in an S3 bucket (a real local S3 server, tests/s3_server.py), in a real browser: the
<video> follows this site's redirect to the presigned link, plays and seeks with ranges the bucket answers,
watching is credited as from the folder, a link that expired is replaced by a fresh one, and the course's
PDF shows in its frame, all without a single Content-Security-Policy violation."""

import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files import File
from playwright.sync_api import expect

import learntrace.demo
import s3_server as local_s3
from learntrace.catalog.models import Course, CourseKind
from test_browser import DEMO_VIDEO, log_in, server_coverage, settle
from test_course_kinds import needs_ffmpeg
from test_csp_browser import child_frame, violations, watched

s3_server, bucket = local_s3.s3_server, local_s3.bucket  # the fixtures, for this module's tests
DEMO_MEDIA = Path(learntrace.demo.__file__).parent / "media"


def stored_course(catalog, kind: str, file_name: str, duration_seconds: int) -> Course:
    course = Course(title="From the bucket", kind=kind, category=catalog.management,
                    duration_seconds=duration_seconds, is_published=True)
    field = course.video_file if kind == CourseKind.VIDEO else course.document_file
    with (DEMO_MEDIA / file_name).open("rb") as handle:
        field.save(file_name, File(handle), save=False)
    course.save()
    return course


@pytest.fixture
def requests_seen():
    """Every address a page asks for (`watch(page)`), to see who answered the media."""
    seen: list[str] = []

    def watch(page):
        page.on("request", lambda request: seen.append(request.url))
        return page

    watch.seen = seen
    return watch


def test_a_video_in_the_bucket_plays_seeks_and_is_credited(live_server, org, catalog, new_page, bucket, settings,
                                                           requests_seen):
    settings.TRACKER_BEAT_MS = 1000
    course = stored_course(catalog, CourseKind.VIDEO, DEMO_VIDEO, 900)
    assert bucket.keys() == [f"{bucket.prefix}courses/videos/{DEMO_VIDEO}"]
    page = requests_seen(watched(new_page()))
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{course.pk}/")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert page.evaluate("() => Math.round(document.querySelector('video').duration)") == 900
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_timeout(4000)
    played = page.evaluate("() => { const v = document.querySelector('video'); v.pause(); return v.currentTime; }")
    settle(page)
    credited, _intervals = server_coverage(org.learner, course)
    assert played > 2
    assert abs(credited - played * 1000) < 1500, (credited, played)

    # Seeking far ahead reads a range the first answer did not hold.
    page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = 600; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 601")
    page.evaluate("() => document.querySelector('video').pause()")
    media = [url for url in requests_seen.seen if f"/{bucket.name}/" in url]
    assert media and all(url.startswith(f"{bucket.endpoint}/{bucket.name}/learntrace/courses/videos/")
                         for url in media)
    assert violations(page) == ([], [])


def test_a_pdf_in_the_bucket_shows_in_the_course_page_frame(live_server, org, catalog, new_page, bucket):
    course = stored_course(catalog, CourseKind.DOCUMENT, "compliance-handbook.pdf", 600)
    page = watched(new_page())
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{course.pk}/")
    frame = child_frame(page, page.main_frame, f"{bucket.endpoint}/{bucket.name}/learntrace/courses/documents/")
    expect(page.locator("iframe")).to_be_visible()
    assert frame.url.split("?")[0].endswith("/compliance-handbook.pdf")
    assert violations(page) == ([], [])


def noise_video(path: Path, seconds: int) -> Path:
    """A video too big to be read in one go (about 0.4 MB a second), so that seeking asks for more ranges."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"nullsrc=s=320x240:d={seconds},geq=random(1)*255:128:128", "-c:v", "libvpx", "-b:v", "3M",
                    "-r", "10", str(path)], check=True)
    return path


@needs_ffmpeg
def test_a_link_that_expired_while_watching_is_replaced_by_a_fresh_one(live_server, org, catalog, new_page, bucket,
                                                                       tmp_path, requests_seen):
    course = Course(title="Long lecture", kind=CourseKind.VIDEO, category=catalog.management, duration_seconds=30,
                    is_published=True)
    with noise_video(tmp_path / "lecture.webm", 30).open("rb") as handle:
        course.video_file.save("lecture.webm", File(handle), save=False)
    course.save()
    page = requests_seen(watched(new_page()))
    links: list[str] = []
    expired = {"signature": ""}

    def bucket_answers(route):
        # The bucket refuses a link once it has expired (moto does not check the time, so this test does).
        signature = parse_qs(urlsplit(route.request.url).query)["X-Amz-Signature"][0]
        links.append(signature)
        if signature == expired["signature"]:
            route.fulfill(status=403, content_type="application/xml",
                          body="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        else:
            route.continue_()

    page.route(re.compile(f"^{re.escape(bucket.endpoint)}/"), bucket_answers)
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}/catalog/courses/{course.pk}/")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    for _ in range(100):  # the route's handler runs in this thread, when Playwright's events are read
        if links:
            break
        page.wait_for_timeout(100)
    assert links, "the video was not read from the bucket"
    first = links[0]
    page.wait_for_timeout(1100)  # a link signed a second later differs
    expired["signature"] = first
    buffered = page.evaluate("() => { const b = document.querySelector('video').buffered;"
                             " return b.length ? b.end(b.length - 1) : 0; }")
    assert buffered < 25, buffered  # so that the seek below needs a range not read yet
    page.evaluate("() => { document.querySelector('video').currentTime = 27; }")
    page.wait_for_function("() => { const v = document.querySelector('video');"
                           " return v.currentTime >= 26.9 && !v.seeking && v.readyState >= 2; }", timeout=60_000)
    assert first in links and links[-1] != first  # refused once, then read from a fresh link
    address = f"{live_server.url}/catalog/courses/{course.pk}/video"
    asked = [url for url in requests_seen.seen if url.startswith(address)]
    assert len(asked) == 2  # the page's address again, after the first link expired
    assert page.evaluate("() => document.querySelector('video').error") is None
