"""S3-compatible object storage as the storage every node shares (S3_* settings), against a real local S3
server (moto, tests/s3_server.py): course media, certificates, uploaded imports and finished exports go to
the bucket and never to this machine's disk; after the permission check a reader is redirected to a
short-lived presigned link, which answers ranges itself. Half the settings stop the start-up."""

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

import s3_server as local_s3
from learntrace.catalog.models import Course, CourseKind
from learntrace.core import backups
from learntrace.core.object_storage import REQUIRED, origin_of, s3_storage
from learntrace.declarations import services as declarations
from learntrace.org.models import Employee, ImportBatch
from learntrace.records.models import Completion, Source
from learntrace.reports import services as reports
from learntrace.reports.models import ExportJob
from reports_fixtures import hospital_month
from test_course_kinds import course_form, made_video, needs_ffmpeg
from test_declarations import PDF, data, upload
from test_history_import import write as write_history
from test_import import person, write_csv

s3_server, bucket = local_s3.s3_server, local_s3.bucket  # the fixtures, for this module's tests
s3_environment = local_s3.s3_environment
VIDEO = bytes(range(256)) * 40  # what the tests store as a video: its bytes, not a playable file


def video_course(catalog, *, published=True) -> Course:
    course = Course(title="Ward rounds", kind=CourseKind.VIDEO, category=catalog.management, duration_seconds=600,
                    is_published=published)
    course.video_file.save("rounds.webm", ContentFile(VIDEO), save=False)
    course.save()
    return course


@pytest.fixture(autouse=True)
def own_media_folder(settings, tmp_path):
    """Each test's own media folder: a file that another test left on disk is not this test's."""
    settings.MEDIA_ROOT = tmp_path / "media"


def on_disk(name: str) -> bool:
    return (Path(django_settings.MEDIA_ROOT) / name).exists()


# ---------------------------------------------------------------- course media


@needs_ffmpeg
def test_a_video_uploaded_through_the_course_form_lands_in_the_bucket_and_not_on_disk(
        org, catalog, client_for, bucket, tmp_path):
    video = made_video(tmp_path, 7, "webm")
    answer = client_for(org.admin).post(reverse("catalog:course_new"), course_form(catalog.management,
                                                                                    video_file=video))
    assert answer.status_code == 302
    course = Course.objects.get(title="Ward rounds")
    assert course.video_file.name == "courses/videos/lesson.webm"
    assert course.duration_seconds == 7  # read by hachoir from the upload
    assert bucket.keys() == ["learntrace/courses/videos/lesson.webm"]
    assert bucket.read("learntrace/courses/videos/lesson.webm") == (tmp_path / "lesson.webm").read_bytes()
    assert not on_disk("courses/videos/lesson.webm")


def test_a_second_file_of_the_same_name_does_not_replace_the_first(catalog, bucket):
    first, second = video_course(catalog), video_course(catalog)
    assert first.video_file.name == "courses/videos/rounds.webm"
    assert second.video_file.name != first.video_file.name
    assert len(bucket.keys()) == 2


@needs_ffmpeg
def test_a_changed_duration_is_checked_against_the_stored_video_read_from_the_bucket(
        org, catalog, client_for, bucket, tmp_path):
    client = client_for(org.admin)
    client.post(reverse("catalog:course_new"), course_form(catalog.management, video_file=made_video(tmp_path, 7,
                                                                                                      "webm")))
    course = Course.objects.get(title="Ward rounds")
    answer = client.post(reverse("catalog:course_edit", args=[course.pk]),
                         course_form(catalog.management, duration_minutes="1"))
    assert answer.status_code == 200
    assert "The video lasts 0:07, but the duration typed is 1:00." in answer.text


def test_a_learner_is_sent_to_a_short_lived_link_that_answers_a_range_from_the_bucket(
        org, catalog, client_for, bucket):
    course = video_course(catalog)
    answer = client_for(org.learner).get(reverse("catalog:course_video", args=[course.pk]), HTTP_RANGE="bytes=5-9")
    assert answer.status_code == 302 and answer["Cache-Control"] == "private, no-store"
    link = answer["Location"]
    assert link.startswith(f"{bucket.endpoint}/{bucket.name}/learntrace/courses/videos/rounds.webm?")
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert django_settings.S3_ORIGIN == bucket.endpoint

    ranged = httpx.get(link, headers={"Range": "bytes=5-9"})
    assert ranged.status_code == 206
    assert ranged.content == VIDEO[5:10]
    assert ranged.headers["Content-Range"] == f"bytes 5-9/{len(VIDEO)}"
    assert ranged.headers["Content-Type"] == "video/webm"
    assert httpx.get(link).content == VIDEO


def test_the_link_lasts_as_long_as_the_setting_says(org, catalog, client_for, bucket, settings):
    storage = s3_storage({**bucket.environment, "S3_URL_SECONDS": "120"}.get)
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    course = video_course(catalog)
    link = client_for(org.learner).get(reverse("catalog:course_video", args=[course.pk]))["Location"]
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == ["120"]


def test_nobody_who_may_not_see_the_course_gets_a_link(org, catalog, client_for, client, bucket):
    hidden = video_course(catalog, published=False)
    url = reverse("catalog:course_video", args=[hidden.pk])
    refused = client_for(org.learner).get(url)
    assert refused.status_code == 404 and "Location" not in refused
    assert bucket.name not in refused.text
    client.logout()
    anonymous = client.get(reverse("catalog:course_video", args=[video_course(catalog).pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))


def test_a_file_missing_from_the_bucket_answers_404_with_the_reason(org, catalog, client_for, bucket):
    course = video_course(catalog)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{bucket.prefix}{course.video_file.name}")
    answer = client_for(org.learner).get(reverse("catalog:course_video", args=[course.pk]))
    assert answer.status_code == 404 and "Location" not in answer
    assert "The file of this course is missing on this server. Please tell the training admin." in answer.text


def test_a_bucket_that_cannot_be_reached_answers_503_saying_so(org, catalog, client_for, bucket, settings):
    course = video_course(catalog)
    nowhere = f"http://127.0.0.1:{local_s3.free_port()}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage({**bucket.environment,
                                                                     "S3_ENDPOINT_URL": nowhere}.get)}
    answer = client_for(org.learner).get(reverse("catalog:course_video", args=[course.pk]))
    assert answer.status_code == 503 and "Location" not in answer and answer["Retry-After"] == "30"
    assert "The file storage cannot be reached at the moment. Please try again in a minute." in answer.text
    chinese = client_for(org.learner, "zh-hans").get(reverse("catalog:course_video", args=[course.pk]))
    assert chinese.status_code == 503 and "暂时无法连接文件存储,请约一分钟后再试。" in chinese.text


def test_a_node_is_ready_only_while_its_bucket_answers(db, bucket, settings):
    assert Client().get("/health/ready").json()["checks"]["storage"] == "ok"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage({**bucket.environment,
                                                                     "S3_BUCKET": "lt-never-made"}.get)}
    answer = Client().get("/health/ready")
    assert answer.status_code == 503 and answer.json()["checks"]["storage"] == "bucket missing (S3_BUCKET)"
    nowhere = f"http://127.0.0.1:{local_s3.free_port()}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage({**bucket.environment,
                                                                     "S3_ENDPOINT_URL": nowhere}.get)}
    answer = Client().get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"] == "bucket unavailable: EndpointConnectionError"
    assert local_s3.SECRET_KEY not in answer.content.decode()


def test_the_pages_may_play_show_and_frame_files_from_the_bucket(org, catalog, client_for, bucket):
    course = video_course(catalog)
    policy = client_for(org.learner).get(reverse("catalog:course", args=[course.pk]))["Content-Security-Policy"]
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["media-src"] == f"'self' {bucket.endpoint}"
    assert directives["frame-src"] == f"'self' {bucket.endpoint}"
    assert directives["img-src"] == f"'self' data: {bucket.endpoint}"
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"


def test_without_a_bucket_the_policy_names_no_other_origin(org, catalog, client_for):
    policy = client_for(org.learner).get(reverse("catalog:course", args=[catalog.video.pk]))["Content-Security-Policy"]
    assert "media-src" not in policy and "frame-src" not in policy and "img-src 'self' data:;" in policy


# ---------------------------------------------------------------- certificates of credits earned elsewhere


def test_a_pdf_certificate_is_a_download_from_the_bucket_for_those_who_may_read_it(org, catalog, client_for, bucket):
    declaration = declarations.declare(employee=org.learner, data=data(catalog),
                                       certificate=upload(PDF, "scan.pdf", "application/pdf"))
    assert bucket.keys() == [f"{bucket.prefix}{declaration.certificate.name}"]
    url = reverse("declarations:certificate", args=[declaration.pk])
    answer = client_for(org.head).get(url)
    assert answer.status_code == 302
    downloaded = httpx.get(answer["Location"])
    assert downloaded.content == PDF
    assert downloaded.headers["Content-Disposition"] == f'attachment; filename="certificate-{declaration.pk}.pdf"'
    assert downloaded.headers["Content-Type"] == "application/pdf"
    refused = client_for(org.outsider).get(url)
    assert refused.status_code == 404 and "Location" not in refused


# ---------------------------------------------------------------- imports and exports


def test_an_import_uploaded_on_the_web_is_read_by_the_worker_from_the_bucket(
        org, client_for, bucket, tmp_path, django_capture_on_commit_callbacks):
    client = client_for(org.admin)
    path = write_csv(tmp_path / "people.csv", [person("W1"), person("W2", "SURG")])
    with django_capture_on_commit_callbacks(execute=True), path.open("rb") as handle:
        client.post(reverse("org:import"), {"file": handle})
    batch = ImportBatch.objects.get()
    assert batch.stored_path.startswith("uploads/") and batch.stored_path.endswith(".csv")
    assert bucket.keys() == [f"{bucket.prefix}{batch.stored_path}"]
    assert bucket.read(f"{bucket.prefix}{batch.stored_path}") == path.read_bytes()
    assert not on_disk(batch.stored_path)
    assert batch.status == ImportBatch.Status.VALIDATED and batch.summary["employees_created"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert sorted(Employee.objects.filter(employee_no__in=["W1", "W2"]).values_list("employee_no", flat=True)) == \
        ["W1", "W2"]
    assert bucket.keys() == []  # personal data: removed once imported


@pytest.mark.parametrize(("language", "reason"), [
    ("en", "The uploaded file can no longer be read from the shared storage; nothing was changed. "
           "Upload the file again."),
    ("zh-hans", "已无法从共享存储读取上传的文件；未做任何更改。请重新上传文件。"),
])
def test_an_import_whose_file_left_the_bucket_fails_with_the_reason(
        org, client_for, bucket, tmp_path, django_capture_on_commit_callbacks, language, reason):
    client = client_for(org.admin, language)
    path = write_csv(tmp_path / "people.csv", [person("W1")])
    with django_capture_on_commit_callbacks(execute=True), path.open("rb") as handle:
        client.post(reverse("org:import"), {"file": handle})
    batch = ImportBatch.objects.get()
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{bucket.prefix}{batch.stored_path}")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["message"] == reason
    assert not Employee.objects.filter(employee_no="W1").exists()


def test_a_checked_history_file_is_confirmed_from_the_bucket(org, catalog, client_for, bucket, tmp_path):
    path = write_history(tmp_path / "paper.csv", [[org.head.employee_no, "Sepsis update", "2023-05-08", "1", "1", "",
                                                   "", "", ""]])
    client = client_for(org.admin)
    with path.open("rb") as handle:
        page = client.post(reverse("records:import_history"), {"file": handle})
    assert 'data-ok="1"' in page.text
    [key] = bucket.keys()
    assert key.startswith(f"{bucket.prefix}uploads/") and not on_disk(key.removeprefix(bucket.prefix))
    client.post(reverse("records:import_history"), {"token": page.context["token"]})
    assert Completion.objects.filter(employee=org.head, source=Source.IMPORTED).count() == 1
    assert bucket.keys() == []


def test_an_export_written_by_the_worker_is_downloaded_from_the_bucket_by_its_requester_only(
        org, catalog, client_for, bucket, settings, django_capture_on_commit_callbacks):
    hospital_month(org, catalog)
    settings.REPORTS_DIRECT_EXPORT_ROWS = 3
    client = client_for(org.head)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("reports:export", args=["people", "xlsx"]), {"period": "all"})
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and job.stored_path == f"exports/{job.pk}.xlsx"
    assert bucket.keys() == [f"{bucket.prefix}exports/{job.pk}.xlsx"] and not on_disk(job.stored_path)

    answer = client.get(reverse("reports:export_download", args=[job.pk]))
    assert answer.status_code == 302
    downloaded = httpx.get(answer["Location"])
    assert downloaded.headers["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    sheet = load_workbook(io.BytesIO(downloaded.content), read_only=True).active
    numbers = sorted(row[0] for row in list(sheet.iter_rows(values_only=True))[1:])
    assert numbers == ["E001", "E001", "H001", "H001"]  # February and March, the head's subtree only
    refused = client_for(org.admin).get(reverse("reports:export_download", args=[job.pk]))
    assert refused.status_code == 404 and "Location" not in refused

    reports.delete_expired_exports(now=job.created_at + dt.timedelta(hours=25))
    assert bucket.keys() == []


# ---------------------------------------------------------------- backups


def test_a_backup_copies_the_buckets_media_but_not_passing_files_and_a_restore_puts_them_back(
        catalog, bucket, tmp_path):
    course = video_course(catalog)
    default_storage.save("uploads/waiting.csv", ContentFile(b"employee_no\n"))
    default_storage.save("exports/1.csv", ContentFile(b"a,b\n"))
    assert backups.copy_media_out(tmp_path / "media") == 1
    assert sorted(p.relative_to(tmp_path / "media").as_posix() for p in (tmp_path / "media").rglob("*")
                  if p.is_file()) == [course.video_file.name]
    for key in bucket.keys():
        bucket.client.delete_object(Bucket=bucket.name, Key=key)
    assert backups.copy_media_in(tmp_path / "media") == 1
    assert bucket.keys() == [f"{bucket.prefix}{course.video_file.name}"]
    assert bucket.read(f"{bucket.prefix}{course.video_file.name}") == VIDEO


# ---------------------------------------------------------------- settings


def test_settings_from_the_environment(s3_server):
    storage = s3_storage(s3_environment(s3_server, "lt-media", prefix="/site-a/").get)
    assert storage["BACKEND"] == "learntrace.core.bucket.BucketStorage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["location"], options["region_name"], options["querystring_expire"],
            options["file_overwrite"], options["default_acl"]) == ("lt-media", "site-a", "us-east-1", 300, False, None)
    assert s3_storage({}.get) is None and origin_of(None) == ""


@pytest.mark.parametrize(("endpoint", "style", "origin"), [
    ("https://oss.example.com:9000", "path", "https://oss.example.com:9000"),
    ("https://oss.example.com:9000", "virtual", "https://lt-media.oss.example.com:9000"),
    ("http://127.0.0.1:9000", "virtual", "http://127.0.0.1:9000"),  # no bucket in an IP address's host
])
def test_the_policys_origin_is_where_the_links_point(endpoint, style, origin):
    from learntrace.core.bucket import BucketStorage

    storage = s3_storage({**s3_environment(endpoint, "lt-media"), "S3_ADDRESSING_STYLE": style}.get)
    link = urlsplit(BucketStorage(**storage["OPTIONS"]).url("courses/a.webm"))  # signed here, nothing is sent
    assert origin_of(storage) == f"{link.scheme}://{link.netloc}" == origin


@pytest.mark.parametrize(("wrong", "message"), [
    ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL='minio:9000' is not an address like"),
    ({"S3_ADDRESSING_STYLE": "bucket"}, "S3_ADDRESSING_STYLE='bucket': use path or virtual."),
    ({"S3_URL_SECONDS": "86400"}, "S3_URL_SECONDS='86400' is not a number of seconds from 10 to 3600."),
])
def test_a_wrong_value_is_refused_naming_it(wrong, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        s3_storage({**s3_environment("http://127.0.0.1:9000", "lt-media"), **wrong}.get)
    assert str(refused.value).startswith(message)


def test_a_half_configured_bucket_stops_the_start_up_naming_what_is_missing(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "learntrace.settings",
                   "S3_BUCKET": "lt-media", "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                   "S3_SECRET_ACCESS_KEY": "do-not-print-me"}
    started = subprocess.run([sys.executable, "-m", "learntrace", "check"], capture_output=True, text=True,
                             cwd=tmp_path, env=environment)
    assert started.returncode == 1
    assert started.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: S3 object storage is half configured: S3_ACCESS_KEY_ID is not "
        f"set. Set {', '.join(REQUIRED)} (docs/deployment.md), or none of the S3_* variables to keep the files in "
        "SHARED_DIR.")
    assert "do-not-print-me" not in started.stderr + started.stdout
    complete = subprocess.run([sys.executable, "-m", "learntrace", "check"], capture_output=True, text=True,
                              cwd=tmp_path, env={**environment, "S3_ACCESS_KEY_ID": "learntrace"})
    assert complete.returncode == 0, complete.stderr
