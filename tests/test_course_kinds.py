"""The course form by kind: only the chosen kind's fields are kept, and a video's length is read from
the uploaded file (real WebM and MP4 files made by ffmpeg) and checked against a typed one."""

import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learntrace.catalog.models import Course, CourseKind

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Without ffmpeg the tests of real files skip, unless LEARNTRACE_REQUIRE_FFMPEG=1 (as in CI).
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None and os.environ.get("LEARNTRACE_REQUIRE_FFMPEG") != "1",
                                  reason="ffmpeg is not installed (Debian package: ffmpeg)")


def course_form(category, **overrides):
    data = {"title": "Ward rounds", "description": "", "kind": "video", "category": category.pk,
            "duration_minutes": "", "completion_threshold": "95", "credits": "0", "credit_class": "",
            "external_url": "", "location": "", "is_published": "on"}
    data.update(overrides)
    return data


def made_video(tmp_path, seconds: int, extension: str) -> SimpleUploadedFile:
    """A real video of `seconds` seconds, as a browser would upload it."""
    codec = {"webm": ["-c:v", "libvpx", "-b:v", "50k"], "mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p"]}
    path = tmp_path / f"lesson.{extension}"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc=duration={seconds}:size=64x48:rate=10", *codec[extension], str(path)],
                   check=True)
    return SimpleUploadedFile(path.name, path.read_bytes(), f"video/{extension}")


def post(client, data, course=None):
    url = reverse("catalog:course_edit", args=[course.pk]) if course else reverse("catalog:course_new")
    return client.post(url, data)


# ---------------------------------------------------------------- fields by kind


def test_an_offline_course_keeps_only_its_location(org, client_for, catalog):
    data = course_form(catalog.management, kind="offline", duration_minutes="90", location="Room 301",
                       external_url="https://meet.example.com/x", no_skipping="on",
                       document_file=SimpleUploadedFile("guide.pdf", PDF, "application/pdf"))
    response = post(client_for(org.admin), data)
    assert response.status_code == 302, response.text
    course = Course.objects.get(title="Ward rounds", kind=CourseKind.OFFLINE)
    assert (course.location, course.external_url, course.no_skipping) == ("Room 301", "", False)
    assert not course.document_file and not course.video_file and course.duration_seconds == 90 * 60


def test_a_live_course_keeps_its_address_and_not_a_location(org, client_for, catalog):
    data = course_form(catalog.management, kind="live", duration_minutes="60", location="Room 301",
                       external_url="https://meet.example.com/x")
    assert post(client_for(org.admin), data).status_code == 302
    course = Course.objects.get(kind=CourseKind.LIVE)
    assert (course.external_url, course.location, course.duration_seconds) == ("https://meet.example.com/x", "", 3600)


def test_turning_a_video_into_a_document_drops_the_video_address(org, client_for, catalog):
    course = Course.objects.create(title="Was a video", kind=CourseKind.VIDEO, category=catalog.management,
                                   duration_seconds=600, external_url="https://video.example.com/a",
                                   no_skipping=True)
    data = course_form(catalog.management, title="Was a video", kind="document", duration_minutes="10",
                       external_url="https://video.example.com/a", no_skipping="on",
                       document_file=SimpleUploadedFile("guide.pdf", PDF, "application/pdf"))
    assert post(client_for(org.admin), data, course).status_code == 302
    course.refresh_from_db()
    assert (course.kind, course.external_url, course.no_skipping) == (CourseKind.DOCUMENT, "", False)
    assert course.document_file.read() == PDF


def test_a_wrong_file_of_another_kind_does_not_stop_the_save(org, client_for, catalog):
    data = course_form(catalog.management, kind="live", duration_minutes="30", external_url="https://meet.example.com/x",
                       document_file=SimpleUploadedFile("notes.pdf", b"MZ not a pdf", "application/pdf"),
                       video_file=SimpleUploadedFile("notes.exe", b"MZ", "application/octet-stream"))
    response = post(client_for(org.admin), data)
    assert response.status_code == 302, response.text
    course = Course.objects.get(kind=CourseKind.LIVE)
    assert not course.document_file and not course.video_file


@pytest.mark.parametrize("kind", ["document", "offline", "live"])
def test_every_kind_but_a_video_file_needs_a_typed_duration(org, client_for, catalog, kind):
    data = course_form(catalog.management, kind=kind, external_url="https://meet.example.com/x",
                       document_file=SimpleUploadedFile("guide.pdf", PDF, "application/pdf"))
    response = post(client_for(org.admin), data)
    assert response.status_code == 200 and "Type the duration." in response.text
    assert not Course.objects.filter(title="Ward rounds").exists()


def test_the_form_groups_each_kinds_fields_for_the_page_to_hide(org, client_for, catalog):
    page = client_for(org.admin).get(reverse("catalog:course_new")).text
    assert 'data-shown-by="kind" data-shown-for="video"' in page
    assert 'data-shown-by="kind" data-shown-for="video live"' in page
    assert 'data-shown-by="kind" data-shown-for="offline"' in page
    # Without JavaScript nothing is hidden: the groups are hidden by site.js only.
    assert " hidden" not in page.split("<form", 1)[1]


def test_learners_cannot_open_or_post_the_course_form(org, client_for, catalog):
    client = client_for(org.learner)
    assert client.get(reverse("catalog:course_new")).status_code == 403
    assert client.post(reverse("catalog:course_new"),
                       course_form(catalog.management, kind="live", duration_minutes="5")).status_code == 403
    assert not Course.objects.filter(kind=CourseKind.LIVE).exists()


# ---------------------------------------------------------------- a video's length


@needs_ffmpeg
@pytest.mark.parametrize("extension", ["webm", "mp4"])
def test_an_empty_duration_is_read_from_the_video(org, client_for, catalog, tmp_path, extension):
    data = course_form(catalog.management, video_file=made_video(tmp_path, 7, extension))
    response = post(client_for(org.admin), data)
    assert response.status_code == 302, response.text
    assert Course.objects.get(title="Ward rounds").duration_seconds == 7


@needs_ffmpeg
def test_a_typed_duration_that_agrees_takes_the_files_exact_seconds(org, client_for, catalog, tmp_path):
    data = course_form(catalog.management, duration_minutes="0.1", video_file=made_video(tmp_path, 9, "webm"))
    assert post(client_for(org.admin), data).status_code == 302
    assert Course.objects.get(title="Ward rounds").duration_seconds == 9  # typed 6 s, within 5 s


@needs_ffmpeg
@pytest.mark.parametrize("extension", ["webm", "mp4"])
def test_a_typed_duration_that_disagrees_with_the_video_is_refused(org, client_for, catalog, tmp_path,
                                                                     extension):
    data = course_form(catalog.management, duration_minutes="1", video_file=made_video(tmp_path, 7, extension))
    response = post(client_for(org.admin), data)
    assert response.status_code == 200
    assert "The video lasts 0:07, but the duration typed is 1:00." in response.text
    assert not Course.objects.filter(title="Ward rounds").exists()


def test_an_unreadable_video_keeps_the_typed_duration_or_asks_for_one(org, client_for, catalog):
    client = client_for(org.admin)
    garbage = b"\x1aE\xdf\xa3 not really a WebM" * 50
    response = post(client, course_form(catalog.management,
                                        video_file=SimpleUploadedFile("broken.webm", garbage, "video/webm")))
    assert response.status_code == 200
    assert "could not be read from the file: type its duration" in response.text
    assert not Course.objects.filter(title="Ward rounds").exists()

    response = post(client, course_form(catalog.management, duration_minutes="12.5",
                                        video_file=SimpleUploadedFile("broken.webm", garbage, "video/webm")))
    assert response.status_code == 302
    assert Course.objects.get(title="Ward rounds").duration_seconds == 750


def test_an_external_video_has_its_duration_typed(org, client_for, catalog):
    client = client_for(org.admin)
    response = post(client, course_form(catalog.management, external_url="https://video.example.com/a"))
    assert "Type the duration." in response.text
    response = post(client, course_form(catalog.management, external_url="https://video.example.com/a",
                                        duration_minutes="45"))
    assert response.status_code == 302
    assert Course.objects.get(title="Ward rounds").duration_seconds == 45 * 60


@needs_ffmpeg
def test_editing_a_video_course_checks_a_changed_duration_against_its_stored_file(org, client_for, catalog,
                                                                                    tmp_path):
    client = client_for(org.admin)
    assert post(client, course_form(catalog.management, video_file=made_video(tmp_path, 8, "webm"))).status_code == 302
    course = Course.objects.get(title="Ward rounds")
    # Saved again as shown (0.1 min on the page): the exact 8 s stay.
    assert post(client, course_form(catalog.management, duration_minutes="0.1", title="Renamed"),
                course).status_code == 302
    course.refresh_from_db()
    assert (course.title, course.duration_seconds) == ("Renamed", 8)
    response = post(client, course_form(catalog.management, duration_minutes="30"), course)
    assert "The video lasts 0:08, but the duration typed is 30:00." in response.text
    course.refresh_from_db()
    assert course.duration_seconds == 8 and course.credits == Decimal("0")
