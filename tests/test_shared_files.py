"""Without S3 settings, files one node writes and another reads live in SHARED_DIR (Django's default storage
in SHARED_DIR/media); with FILES_ACCEL_REDIRECT a web server in front sends them (ranges included) after
learntrace has checked who may read them. test_object_storage.py holds the same with a bucket."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learntrace.catalog.models import Category, Course, CourseKind
from learntrace.org.uploads import store_upload
from learntrace.reports.models import ExportJob

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def document(db):
    management = Category.objects.create(code="management", name="管理", name_en="Management")
    course = Course(title="Guide", kind=CourseKind.DOCUMENT, category=management, duration_seconds=600,
                    is_published=True)
    course.document_file.save("guide.pdf", SimpleUploadedFile("guide.pdf", PDF), save=False)
    course.save()
    return course


def test_media_uploads_and_exports_are_written_under_the_shared_folder(settings, tmp_path, document):
    assert Path(document.document_file.path).is_relative_to(settings.SHARED_DIR)
    stored, digest = store_upload(SimpleUploadedFile("people.csv", b"a,b\n"))
    assert stored.startswith("uploads/") and stored.endswith(".csv")
    assert Path(default_storage.path(stored)).parent == Path(settings.SHARED_DIR) / "media" / "uploads"
    assert Path(default_storage.path(stored)).read_bytes() == b"a,b\n"
    assert digest == "5be08c9684a1d25efcee09318204824278b08bbfb4aef973ffefd0b9d7478313"


def test_course_media_is_handed_to_the_web_server(org, client_for, settings, document):
    settings.FILES_ACCEL_REDIRECT = "/protected-files"
    answer = client_for(org.learner).get(reverse("catalog:course_document", args=[document.pk]),
                                         HTTP_RANGE="bytes=5-9")
    assert answer.status_code == 200  # the web server answers the range from the file
    relative = Path(document.document_file.path).relative_to(settings.SHARED_DIR).as_posix()
    assert answer["X-Accel-Redirect"] == f"/protected-files/{relative}"
    assert answer["Content-Type"] == "application/pdf"
    assert answer.content == b""


def test_a_missing_file_still_answers_404_with_the_reason(org, client_for, settings, document):
    settings.FILES_ACCEL_REDIRECT = "/protected-files"
    Path(document.document_file.path).unlink()
    answer = client_for(org.learner).get(reverse("catalog:course_document", args=[document.pk]))
    assert answer.status_code == 404
    assert "The file of this course is missing on this server." in answer.text


def test_nobody_else_gets_the_file_handed_over(org, client, settings, document):
    settings.FILES_ACCEL_REDIRECT = "/protected-files"
    answer = client.get(reverse("catalog:course_document", args=[document.pk]))  # not signed in
    assert answer.status_code == 302 and "X-Accel-Redirect" not in answer


def test_a_finished_export_is_handed_over_as_a_download(org, client_for, settings, tmp_path):
    settings.FILES_ACCEL_REDIRECT = "/protected-files"
    stored = default_storage.save("exports/done.csv", ContentFile(b"a,b\n"))
    job = ExportJob.objects.create(requested_by=org.head.user, report="people", file_format="csv",
                                   status=ExportJob.Status.DONE, stored_path=stored,
                                   file_name="people; 2026-03.csv")
    answer = client_for(org.head).get(reverse("reports:export_download", args=[job.pk]))
    assert answer.status_code == 200
    assert answer["X-Accel-Redirect"] == f"/protected-files/media/{stored}"
    assert answer["Content-Disposition"] == 'attachment; filename="people_2026-03.csv"'
    assert client_for(org.admin).get(reverse("reports:export_download", args=[job.pk])).status_code == 404


def test_without_the_setting_learntrace_sends_the_file(org, client_for, settings, document):
    settings.FILES_ACCEL_REDIRECT = ""
    answer = client_for(org.learner).get(reverse("catalog:course_document", args=[document.pk]))
    assert answer.status_code == 200 and "X-Accel-Redirect" not in answer
    assert b"".join(answer.streaming_content) == PDF



def test_an_export_named_by_its_old_absolute_path_is_still_sent(org, client_for, settings):
    """Exports and uploads named before the storage was used (by an absolute path) are read as they were."""
    settings.FILES_ACCEL_REDIRECT = ""
    folder = Path(settings.SHARED_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "old.csv").write_text("a,b\n")
    job = ExportJob.objects.create(requested_by=org.head.user, report="people", file_format="csv",
                                   status=ExportJob.Status.DONE, stored_path=str(folder / "old.csv"),
                                   file_name="people.csv")
    answer = client_for(org.head).get(reverse("reports:export_download", args=[job.pk]))
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == b"a,b\n"
