"""The restore drill of docs/operations.md, with real processes: an installation with an employee's
encrypted ID, a sealed fact and a course file is backed up, restored on a new node (its own data folder
and database), and verifies there."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from test_worker import database_url

MAKE_DATA = """
import datetime as dt
from django.core.files.base import ContentFile
from learntrace.catalog.models import Category, Course, CourseKind
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_save
from learntrace.records.services import record_credited_time
from learntrace.evidence.services import seal_pending
ward = department_save(actor=None, department=Department(code="W1", name="病区"))
nurse = Employee.objects.create(employee_no="N001", name="李护士", department=ward, national_id="110101199003071234")
category = Category.objects.create(code="clinical", name="临床", name_en="Clinical")
course = Course(title="Sepsis", kind=CourseKind.DOCUMENT, category=category, duration_seconds=600, is_published=True)
course.document_file.save("sepsis.pdf", ContentFile(b"%PDF-1.4 sepsis"), save=False)
course.save()
record_credited_time(employee=nurse, course=course, seconds=600, occurred_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
assert len(seal_pending()) == 1
"""

READ_BACK = """
from learntrace.catalog.models import Course
from learntrace.org.models import Employee
print(Employee.objects.get().national_id, open(Course.objects.get().document_file.path, "rb").read().decode())
"""


def learntrace(env: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "learntrace", *arguments], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def second_database():
    """(url of the first node's database, url of the new node's empty one)."""
    if connection.vendor == "sqlite":
        yield None, None
        return
    names = [f"lt_drill_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    base = database_url().rsplit("/", 1)[0]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"CREATE DATABASE {name}")
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_on_a_new_node_and_verifies(tmp_path, second_database):
    first_url, second_url = second_database
    base = {key: value for key, value in os.environ.items()
            if key not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "EVIDENCE_SIGNING_KEY_FILE", "DATABASE_URL")}
    base |= {"DJANGO_SETTINGS_MODULE": "learntrace.settings", "HUEY_IMMEDIATE": "1"}
    old = {**base, "DATA_DIR": str(tmp_path / "old")} | ({"DATABASE_URL": first_url} if first_url else {})
    new = {**base, "DATA_DIR": str(tmp_path / "new")} | ({"DATABASE_URL": second_url} if second_url else {})
    steps = (("migrate", "--noinput"), ("shell", "--no-imports", "-c", MAKE_DATA), ("backup", str(tmp_path / "backup")))
    for step in steps:
        run = learntrace(old, *step)
        assert run.returncode == 0, run.stdout + run.stderr

    backup = tmp_path / "backup"
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"] == connection.vendor
    assert set(manifest["files"]) >= {"keys/secret.key", "keys/field-encryption.key", "keys/evidence-signing.pem"}
    assert any(name.startswith("media/courses/documents/sepsis") for name in manifest["files"])
    assert (backup / "keys" / "secret.key").stat().st_mode & 0o777 == 0o600

    # A changed file is refused before anything is written.
    key = backup / "keys" / "secret.key"
    original = key.read_text()
    key.write_text(original + "x")
    run = learntrace(new, "restore", str(backup))
    assert run.returncode != 0 and "keys/secret.key is missing or changed since the backup was made" in run.stderr
    key.write_text(original)

    for step in (("restore", str(backup)), ("migrate", "--noinput")):
        run = learntrace(new, *step)
        assert run.returncode == 0, run.stdout + run.stderr
    run = learntrace(new, "verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 seals, 2 facts: intact" in run.stdout  # the time and the completion it made
    run = learntrace(new, "shell", "--no-imports", "-c", READ_BACK)
    assert run.stdout.split() == ["110101199003071234", "%PDF-1.4", "sepsis"], run.stderr
    assert (Path(new["DATA_DIR"]) / "secret.key").read_text() == original

    # Restoring twice is refused: the database is no longer empty.
    run = learntrace(new, "restore", str(backup))
    assert run.returncode != 0 and "already holds learntrace" in run.stderr
