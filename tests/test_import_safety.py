"""Hostile or broken uploads: XLSX files with XML entities, zip bombs, too many cells, lying
zip directories, and failures nobody expected. Every one ends with a clear, translated reason
(never a batch left "checking", never a 500) and writes nothing. The files are built here."""

import io
import logging
import os
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook

from learntrace.org.importing import ImportFileError, OrgImport
from learntrace.org.models import Employee, ImportBatch
from learntrace.org.xlsx_guard import RejectedSpreadsheet, check_xlsx_archive
from learntrace.records.history import HistoryImport
from learntrace.records.models import Completion, CreditedTime

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NATIONAL_ID = "11010519491231002X"


def workbook_bytes(rows, title="employees") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PEOPLE = [["employee_no", "name", "department_code"], ["N1", "New nurse", "IM"]]


def rebuilt(original: bytes, replace: dict[str, bytes], *, extra_rels: str = "", extra_types: str = "") -> bytes:
    """The same archive with some members replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(original))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = replace.pop(info.filename, None) or source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels" and extra_rels:
                data = data.replace(b"</Relationships>", extra_rels.encode() + b"</Relationships>")
            if info.filename == "[Content_Types].xml" and extra_types:
                data = data.replace(b"</Types>", extra_types.encode() + b"</Types>")
            target.writestr(info.filename, data)
        for name, data in replace.items():
            target.writestr(name, data)
    return buffer.getvalue()


def sheet_xml(header, values, doctype: str = "") -> bytes:
    def row(number, texts):
        cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
                        for i, text in enumerate(texts))
        return f'<row r="{number}">{cells}</row>'

    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<worksheet xmlns="{MAIN}"><sheetData>'
            f'{row(1, header)}{row(2, values)}</sheetData></worksheet>').encode()


LAUGHS = "<!DOCTYPE worksheet [<!ENTITY lol \"lol\">" + "".join(
    f"<!ENTITY lol{i} \"{('&lol' + str(i - 1) + ';') * 10 if i > 1 else '&lol;' * 10}\">" for i in range(1, 10)
) + "]>"
EXTERNAL = '<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


def entity_expansion_xlsx(rows=PEOPLE) -> bytes:
    header, values = rows
    return rebuilt(workbook_bytes(rows), {"xl/worksheets/sheet1.xml": sheet_xml(header, [values[0], "&lol9;",
                                                                                        *values[2:]], LAUGHS)})


def external_entity_xlsx(rows=PEOPLE) -> bytes:
    header, values = rows
    return rebuilt(workbook_bytes(rows), {"xl/worksheets/sheet1.xml": sheet_xml(header, [values[0], "&secret;",
                                                                                        *values[2:]], EXTERNAL)})


def shared_strings_bomb_xlsx(megabytes: int = 100) -> bytes:
    """A small file whose shared-string table unpacks to about `megabytes` MB, registered so
    that a reader would load it."""
    original = workbook_bytes(PEOPLE)
    source = zipfile.ZipFile(io.BytesIO(original))
    buffer = io.BytesIO()
    rels = ('<Relationship Id="rIdBomb" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings"/>')
    types = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sharedStrings+xml"/>')
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", types.encode() + b"</Types>")
            target.writestr(info.filename, data)
        item = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        with target.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode())
            block = item * 1000
            for _ in range(megabytes * 1024 * 1024 // len(block)):
                member.write(block)
            member.write(b"</sst>")
    return buffer.getvalue()


def upload_org(client, name, content, django_capture_on_commit_callbacks):
    upload = io.BytesIO(content)
    upload.name = name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import"), {"file": upload})
    return ImportBatch.objects.latest("created_at")


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- the archive check


def test_entity_declarations_are_refused_before_parsing(org, tmp_path):
    for name, content in (("laughs.xlsx", entity_expansion_xlsx()), ("external.xlsx", external_entity_xlsx())):
        with pytest.raises(ImportFileError, match="declares XML entities or a document type"):
            OrgImport(write(tmp_path, name, content), name).dry_run()
    assert not Employee.objects.filter(employee_no="N1").exists()


def test_a_shared_strings_bomb_is_refused_from_the_zip_directory(org, tmp_path):
    content = shared_strings_bomb_xlsx()
    assert len(content) < 400 * 1024
    declared = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist())
    assert declared > 100 * 1000 * 1000
    with pytest.raises(ImportFileError, match="compressed more than 100 times"):
        OrgImport(write(tmp_path, "bomb.xlsx", content), "bomb.xlsx").dry_run()


def test_the_unpacked_size_is_bounded_by_a_setting(org, tmp_path):
    # Random text hardly compresses: this is refused for its size, not its ratio.
    rows = PEOPLE + [[f"R{i}", os.urandom(90).hex(), "IM"] for i in range(6000)]
    path = write(tmp_path, "large.xlsx", workbook_bytes(rows))
    assert OrgImport(path, "large.xlsx").dry_run().ok
    with override_settings(IMPORT_XLSX_MAX_UNPACKED_MB=1), \
            pytest.raises(ImportFileError, match="unpacks to more than 1 MB"):
        OrgImport(path, "large.xlsx").dry_run()


def test_the_cell_count_is_bounded_by_a_setting(org, tmp_path):
    rows = PEOPLE + [[f"R{i}", f"Person {i}", "IM"] for i in range(9)]  # 11 rows of 3 cells
    path = write(tmp_path, "cells.xlsx", workbook_bytes(rows))
    with override_settings(IMPORT_XLSX_MAX_CELLS=33):
        assert OrgImport(path, "cells.xlsx").dry_run().ok
    with override_settings(IMPORT_XLSX_MAX_CELLS=32), pytest.raises(ImportFileError, match="more than 32 cells"):
        OrgImport(path, "cells.xlsx").dry_run()


def test_cells_are_counted_with_any_namespace_prefix_and_across_reads(tmp_path):
    cells = "".join(f'<x:c r="A{i}"><x:v>{i}</x:v></x:c><c/>' for i in range(1, 200_001))
    content = rebuilt(workbook_bytes(PEOPLE), {
        "xl/worksheets/sheet1.xml": f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1">{cells}'
                                    '</x:row></x:sheetData></x:worksheet>'.encode()})
    path = write(tmp_path, "prefixed.xlsx", content)
    with override_settings(IMPORT_XLSX_MAX_CELLS=400_000):
        check_xlsx_archive(path)
    with override_settings(IMPORT_XLSX_MAX_CELLS=399_999), pytest.raises(RejectedSpreadsheet, match="cells"):
        check_xlsx_archive(path)


def test_a_member_larger_than_its_declared_size_is_refused_as_damaged(org, tmp_path):
    real = sheet_xml(PEOPLE[0], ["N1", "x" * 5_000_000, "IM"])
    content = bytearray(rebuilt(workbook_bytes(PEOPLE), {"xl/worksheets/sheet1.xml": real}))
    # Make the central directory and the local header claim 1000 bytes.
    name = b"xl/worksheets/sheet1.xml"
    central = content.find(b"PK\x01\x02")
    while central != -1:
        length = int.from_bytes(content[central + 28:central + 30], "little")
        if bytes(content[central + 46:central + 46 + length]) == name:
            content[central + 24:central + 28] = (1000).to_bytes(4, "little")
            local = int.from_bytes(content[central + 42:central + 46], "little")
            content[local + 22:local + 26] = (1000).to_bytes(4, "little")
        central = content.find(b"PK\x01\x02", central + 4)
    path = write(tmp_path, "lying.xlsx", bytes(content))
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    with pytest.raises(ImportFileError, match="damaged"):
        OrgImport(path, "lying.xlsx").dry_run()


def test_utf16_parts_are_refused(org, tmp_path):
    content = rebuilt(workbook_bytes(PEOPLE), {
        "xl/worksheets/sheet1.xml": sheet_xml(*PEOPLE).decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16")})
    with pytest.raises(ImportFileError, match="not UTF-8"):
        OrgImport(write(tmp_path, "utf16.xlsx", content), "utf16.xlsx").dry_run()


# ---------------------------------------------------------------- the organisation import page


@pytest.mark.parametrize("language,message", [
    ("en", "declares XML entities or a document type"),
    ("zh-hans", "声明了 XML 实体或文档类型"),
])
@pytest.mark.parametrize("make", [entity_expansion_xlsx, external_entity_xlsx])
def test_a_refused_xlsx_fails_the_batch_with_its_reason(org, client_for, django_capture_on_commit_callbacks,
                                                        language, message, make):
    client = client_for(org.admin, language=language)
    batch = upload_org(client, "hostile.xlsx", make(), django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error_count == 1 and message in batch.errors[0]["message"]
    page = client.get(reverse("org:import_batch", args=[batch.pk]) + "?fragment=1").text
    assert message in page and 'data-status="failed"' in page and "data-poll-url" not in page
    assert batch.stored_path and not default_storage.exists(batch.stored_path)
    assert not Employee.objects.filter(employee_no="N1").exists()


def test_a_zip_bomb_fails_the_batch(org, client_for, django_capture_on_commit_callbacks):
    client = client_for(org.admin)
    batch = upload_org(client, "bomb.xlsx", shared_strings_bomb_xlsx(), django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.FAILED
    assert "possible zip bomb" in batch.errors[0]["message"]


@pytest.mark.parametrize("language,message", [
    ("en", "unexpected error; nothing was written"),
    ("zh-hans", "处理文件时发生意外错误,未写入任何数据"),
])
def test_an_unexpected_failure_of_the_check_fails_the_batch_and_logs_no_personal_data(
        org, client_for, django_capture_on_commit_callbacks, monkeypatch, caplog, language, message):
    def broken(self, **kwargs):
        raise RuntimeError(f"row of {NATIONAL_ID} 王小明")

    monkeypatch.setattr(OrgImport, "_run", broken)
    client = client_for(org.admin, language=language)
    content = "employee_no,name,department_code\nN1,王小明,IM\n".encode()
    with caplog.at_level(logging.ERROR, logger="learntrace.org.tasks"):
        batch = upload_org(client, "people.csv", content, django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.FAILED
    assert message in client.get(reverse("org:import_batch", args=[batch.pk])).text
    failures = [r for r in caplog.records if r.name == "learntrace.org.tasks"]
    assert len(failures) == 1 and "RuntimeError" in failures[0].getMessage()
    assert str(batch.pk) in failures[0].getMessage()
    logged = caplog.text
    assert NATIONAL_ID not in logged and "王小明" not in logged


def test_an_unexpected_failure_of_the_import_fails_the_batch_and_writes_nothing(
        org, client_for, django_capture_on_commit_callbacks, monkeypatch, caplog):
    client = client_for(org.admin)
    batch = upload_org(client, "people.csv", b"employee_no,name,department_code\nN1,New,IM\n",
                       django_capture_on_commit_callbacks)
    assert batch.status == ImportBatch.Status.VALIDATED
    original = OrgImport._employee_chunk

    def half_then_broken(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise RuntimeError(f"after writing {NATIONAL_ID}")

    monkeypatch.setattr(OrgImport, "_employee_chunk", half_then_broken)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "unexpected error; nothing was written" in batch.errors[0]["message"]
    assert not Employee.objects.filter(employee_no="N1").exists()
    assert NATIONAL_ID not in caplog.text


# ---------------------------------------------------------------- the history import page


HISTORY = [["工号", "课程", "日期"], ["H001", "Sepsis update", "2023-05-08"]]  # the course is replaced


def upload_history(client, name, content):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("records:import_history"), {"file": upload})


@pytest.mark.parametrize("language,message", [
    ("en", "declares XML entities or a document type"),
    ("zh-hans", "声明了 XML 实体或文档类型"),
])
def test_the_history_page_refuses_hostile_xlsx_with_its_reason(org, catalog, client_for, language, message):
    client = client_for(org.admin, language=language)
    for make in (entity_expansion_xlsx, external_entity_xlsx):
        response = upload_history(client, "history.xlsx", make(HISTORY))
        assert response.status_code == 200 and message in response.text
        assert response.context["token"] == ""
    bomb = upload_history(client, "history.xlsx", shared_strings_bomb_xlsx())
    assert bomb.status_code == 200 and bomb.context["form"].errors["file"]
    assert not CreditedTime.objects.exists() and not Completion.objects.exists()


def test_the_history_page_reports_an_unexpected_failure(org, catalog, client_for, monkeypatch, caplog):
    def broken(self, **kwargs):
        raise RuntimeError(f"row of {NATIONAL_ID}")

    monkeypatch.setattr(HistoryImport, "_run", broken)
    client = client_for(org.admin, language="zh-hans")
    response = upload_history(client, "history.csv", "工号,课程,日期\nH001,Sepsis update,2023-05-08\n".encode())
    assert response.status_code == 200 and "处理文件时发生意外错误" in response.text
    assert "RuntimeError" in caplog.text and NATIONAL_ID not in caplog.text


def test_the_history_confirmation_reports_an_unexpected_failure(org, catalog, client_for, monkeypatch):
    client = client_for(org.admin)
    checked = upload_history(client, "history.csv", "工号,课程,日期\nH001,Sepsis update,2023-05-08\n".encode())
    token = checked.context["token"]
    assert token

    def broken(self, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(HistoryImport, "_run", broken)
    response = client.post(reverse("records:import_history"), {"token": token}, follow=True)
    assert response.status_code == 200 and "unexpected error; nothing was written" in response.text
    assert not Completion.objects.exists()


def test_a_batch_whose_worker_was_lost_fails_instead_of_waiting_forever(org, client_for, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from learntrace.org.tasks import fail_stalled_imports

    now = timezone.now()
    stored = write(tmp_path, "stuck.csv", b"employee_no,name,department_code\n")
    checking = ImportBatch.objects.create(file_name="stuck.csv", stored_path=str(stored), sha256="",
                                          language="zh-hans", created_by=org.admin.user)
    importing = ImportBatch.objects.create(file_name="late.csv", stored_path=str(tmp_path / "late.csv"), sha256="",
                                           status=ImportBatch.Status.APPLYING, applying_since=now, language="en")
    # Confirmed, but the worker never picked it up.
    queued = ImportBatch.objects.create(file_name="queued.csv", stored_path=str(tmp_path / "queued.csv"), sha256="",
                                        status=ImportBatch.Status.QUEUED, applying_since=now, language="en")
    ImportBatch.objects.filter(pk__in=[importing.pk, queued.pk]).update(created_at=now - dt.timedelta(days=1))
    assert fail_stalled_imports(now=now + dt.timedelta(hours=5)) == 0
    assert fail_stalled_imports(now=now + dt.timedelta(hours=7)) == 3
    checking.refresh_from_db()
    importing.refresh_from_db()
    queued.refresh_from_db()
    assert checking.status == importing.status == queued.status == ImportBatch.Status.FAILED
    assert checking.errors[0]["message"].startswith("校验或导入未完成就中断了")
    assert importing.errors[0]["message"].startswith("The check or import stopped without finishing")
    assert not stored.exists()
    page = client_for(org.admin, language="zh-hans").get(reverse("org:import_batch", args=[checking.pk])).text
    assert "校验或导入未完成就中断了" in page and "data-poll-url" not in page


def test_an_archive_with_a_huge_directory_is_refused_before_it_is_read(org, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for i in range(20_000):  # 20 000 entries of about 250 bytes: over the 4 MB the directory may take
            archive.writestr(f"xl/media/{i:0200d}", b"")
    content = buffer.getvalue()
    assert len(content) < 20 * 1024 * 1024
    with pytest.raises(ImportFileError, match="far more parts than a spreadsheet"):
        OrgImport(write(tmp_path, "parts.xlsx", content), "parts.xlsx").dry_run()
