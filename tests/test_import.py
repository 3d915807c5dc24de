"""Importing the organisation from XLSX and CSV: dry run, row errors, all-or-nothing, idempotence."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from learntrace.core.models import AuditEntry
from learntrace.org.importing import ImportFileError, OrgImport, valid_national_id
from learntrace.org.models import Department, Employee, ImportBatch, Level

EMPLOYEE_HEADER = ["employee_no", "name", "department_code", "position", "level", "tags", "email",
                   "mobile", "hire_date", "active", "national_id"]


def write_csv(path, rows, header=EMPLOYEE_HEADER, encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, sheets: dict):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def person(number, department="IM", **fields):
    row = {"employee_no": number, "name": f"Person {number}", "department_code": department,
           "position": "Nurse", "level": "staff", "tags": "", "email": "", "mobile": "",
           "hire_date": "2023-05-01", "active": "1", "national_id": ""}
    row.update(fields)
    return [row[column] for column in EMPLOYEE_HEADER]


def dry_run(path, **kwargs):
    return OrgImport(path, path.name, **kwargs).dry_run()


def apply(path, **kwargs):
    return OrgImport(path, path.name, **kwargs).apply(actor=None)


def test_a_dry_run_reports_and_writes_nothing(org, tmp_path):
    path = write_csv(tmp_path / "people.csv", [person("N1"), person("N2", "SURG"),
                                                person(org.learner.employee_no, "IM-CARD", position="Chief")])
    result = dry_run(path)
    assert result.ok
    assert result.counts["employees_created"] == 2
    assert result.counts["employees_updated"] == 1
    assert not Employee.objects.filter(employee_no__in=["N1", "N2"]).exists()
    assert Employee.objects.get(pk=org.learner.pk).position == ""


def test_applying_writes_and_the_same_file_again_changes_nothing(org, tmp_path):
    path = write_csv(tmp_path / "people.csv", [
        person("N1", tags="新任经理、导师", level="经理", national_id="11010519491231002X", email="n1@example.com"),
        person("N2", "SURG", active="0"),
    ])
    first = apply(path)
    assert first.ok and first.counts["employees_created"] == 2
    n1 = Employee.objects.get(employee_no="N1")
    assert n1.level == Level.MANAGER and n1.tag_list == ["导师", "新任经理"]
    assert n1.national_id == "11010519491231002X" and n1.department == org.a
    assert n1.user.username == "N1" and n1.user.is_active
    assert not Employee.objects.get(employee_no="N2").user.is_active
    second = apply(path)
    assert second.ok and second.changes == 0
    assert second.counts["employees_unchanged"] == 2
    assert AuditEntry.objects.filter(action="import").count() == 2


def test_an_xlsx_with_departments_and_employees(org, tmp_path):
    path = write_xlsx(tmp_path / "org.xlsx", {
        "部门": [["部门编码", "部门名称", "上级部门编码"], ["ICU", "重症医学科", "HOSP"], ["ICU-1", "一病区", "ICU"],
                 ["IM", "大内科", "HOSP"]],
        "员工": [["工号", "姓名", "部门编码", "职级", "入职日期"], ["N9", "赵医生", "ICU-1", "科室主任", "2020/01/02"],
                 [1234, "数字工号", "ICU", "员工", None]],
    })
    result = apply(path)
    assert result.ok, result.errors
    assert result.counts["departments_created"] == 2 and result.counts["departments_updated"] == 1
    icu1 = Department.objects.get(code="ICU-1")
    assert icu1.parent.code == "ICU" and icu1.path.startswith(Department.objects.get(code="ICU").path)
    assert Department.objects.get(code="IM").name == "大内科"
    doctor = Employee.objects.get(employee_no="N9")
    assert doctor.level == Level.DEPARTMENT_HEAD and str(doctor.hire_date) == "2020-01-02"
    assert Employee.objects.filter(employee_no="1234").exists()  # a number typed as a number
    assert apply(path).changes == 0


def test_a_gb18030_csv_from_chinese_excel(org, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [["N5", "钱护士", "IM"]], header=["工号", "姓名", "部门编码"],
                     encoding="gb18030")
    result = apply(path)
    assert result.ok
    assert Employee.objects.get(employee_no="N5").name == "钱护士"


def errors_of(result):
    return {(e["row"], e["column"]) for e in result.errors}


def test_row_errors_name_the_row_column_and_reason(org, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        person("N1"),
        person("N2", department="NOPE"),
        person("N1"),
        person("N3", level="king"),
        person("N4", email="not-mail"),
        person("N5", hire_date="2023-02-30"),
        person("N6", national_id="110105194912310021"),
        person("N7", active="maybe"),
        person("", name=""),
    ])
    result = dry_run(path)
    assert not result.ok
    assert errors_of(result) >= {
        (3, "department_code"), (4, "employee_no"), (5, "level"), (6, "email"), (7, "hire_date"),
        (8, "national_id"), (9, "active"), (10, "employee_no"), (10, "name"),
    }
    unknown = next(e for e in result.errors if e["row"] == 3)
    assert "NOPE" in unknown["message"]


def test_a_row_with_several_bad_cells_reports_every_one_in_one_pass(org, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        person("N1", department="NOPE", level="king", email="not-mail", hire_date="2023-02-30"),
        person("N2", department="ALSO-NOPE", national_id="110105194912310021"),
        person("N2", department="NOPE-AGAIN"),
    ])
    result = dry_run(path)
    assert errors_of(result) == {
        (2, "department_code"), (2, "level"), (2, "email"), (2, "hire_date"),
        (3, "department_code"), (3, "national_id"), (4, "employee_no"), (4, "department_code"),
    }
    assert {e["message"] for e in result.errors if e["column"] == "department_code"} == {
        "Unknown department “NOPE”.", "Unknown department “ALSO-NOPE”.", "Unknown department “NOPE-AGAIN”."}
    assert result.counts["employees_created"] == 0


def test_a_department_row_reports_a_missing_name_and_an_unknown_parent_together(org, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [["X1", "", "NOPE"], ["X2", "Fine", "IM"], ["X2", "Twice", "GONE"]],
                     header=["code", "name", "parent_code"])
    assert errors_of(dry_run(path)) == {(2, "name"), (2, "parent_code"), (4, "code"), (4, "parent_code")}


def test_one_bad_row_in_a_later_chunk_writes_nothing_at_all(org, tmp_path):
    rows = [person(f"N{i:05d}") for i in range(2500)]
    rows[2300] = person("N-bad", department="NOPE")
    path = write_csv(tmp_path / "big.csv", rows)
    result = apply(path)
    assert not result.ok and result.error_count == 1
    assert result.errors[0]["row"] == 2302
    assert Employee.objects.count() == 5
    assert not AuditEntry.objects.filter(action="import").exists()


def test_a_department_cycle_is_refused(org, tmp_path):
    path = write_csv(tmp_path / "cycle.csv", [["X", "X", "Y"], ["Y", "Y", "X"]],
                     header=["code", "name", "parent_code"])
    result = dry_run(path)
    assert {e["row"] for e in result.errors} == {2, 3}
    assert "ancestor" in result.errors[0]["message"]


def test_a_department_cannot_be_moved_under_its_existing_child(org, tmp_path):
    path = write_csv(tmp_path / "move.csv", [["IM", "Internal medicine", "IM-CARD"]],
                     header=["code", "name", "parent_code"])
    assert not dry_run(path).ok


def test_deactivating_employees_missing_from_a_whole_file(org, tmp_path):
    keep = [person(e.employee_no, e.department.code) for e in (org.head, org.admin, org.auditor)]
    path = write_csv(tmp_path / "all.csv", keep)
    plain = dry_run(path)
    assert plain.counts["employees_deactivated"] == 0
    result = apply(path, deactivate_missing=True)
    assert result.counts["employees_deactivated"] == 2
    assert set(Employee.objects.filter(is_active=False).values_list("employee_no", flat=True)) == {"E001", "E002"}
    org.learner.user.refresh_from_db()
    assert not org.learner.user.is_active
    assert apply(path, deactivate_missing=True).changes == 0


@pytest.mark.parametrize("name,content,message", [
    ("people.txt", b"employee_no,name\n", "Only .xlsx and .csv"),
    ("empty.csv", b"", "empty"),
    ("header-only.csv", b"employee_no,name,department_code\n", "no data rows"),
    ("broken.xlsx", b"PK\x03\x04 this is not a zip archive at all", "damaged"),
    ("fake.xlsx", b"employee_no,name\nN1,x\n", "damaged"),
    ("binary.csv", b"PK\x03\x04\x00\x00", "not a CSV"),
    ("missing.csv", b"employee_no,name\nN1,x\n", "department code"),
    ("unknown.csv", b"foo,bar\n1,2\n", "header row"),
    ("utf16.csv", "employee_no,name,department_code\nN1,x,IM\n".encode("utf-16"), "not a CSV"),
    ("latin.csv", b"employee_no,name,department_code\nN1,\xff\xff,IM\n", "UTF-8"),
])
def test_files_that_cannot_be_read_get_a_clear_error(org, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        dry_run(path)


def test_the_national_id_check_digit():
    assert valid_national_id("11010519491231002X")
    assert valid_national_id("11010519491231002x")
    assert not valid_national_id("110105194912310021")
    assert not valid_national_id("110105194902300027")  # 30 February
    assert not valid_national_id("1101051949123100")


# ---------------------------------------------------------------- the web flow


def upload(client, path, **extra):
    with path.open("rb") as handle:
        return client.post(reverse("org:import"), {"file": handle, **extra})


def test_the_web_flow_checks_then_imports_on_confirmation(org, client_for, tmp_path,
                                                          django_capture_on_commit_callbacks):
    client = client_for(org.admin)
    path = write_csv(tmp_path / "people.csv", [person("W1"), person("W2", "SURG")])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, path)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and str(batch.pk) in response["Location"]
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATED
    assert batch.summary["employees_created"] == 2
    assert not Employee.objects.filter(employee_no="W1").exists()
    page = client.get(reverse("org:import_batch", args=[batch.pk])).text
    assert "Import now" in page
    with django_capture_on_commit_callbacks() as started:
        client.post(reverse("org:import_confirm", args=[batch.pk]))
        # A second click (or tab) before the worker picks it up starts nothing more.
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    assert len(started) == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED and batch.applying_since is not None
    fragment = client.get(reverse("org:import_batch", args=[batch.pk]), {"fragment": 1}).text
    assert "Import now" not in fragment and "data-poll-url" in fragment and "Import started" in fragment
    assert "0 of 2 rows" in fragment
    started[0]()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    fragment = client.get(reverse("org:import_batch", args=[batch.pk]), {"fragment": 1}).text
    assert "data-poll-url" not in fragment and "Import now" not in fragment and "Imported" in fragment
    assert Employee.objects.filter(employee_no__in=["W1", "W2"]).count() == 2
    # Confirming again does not import twice.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    assert AuditEntry.objects.filter(action="import").count() == 1


def test_the_web_flow_lists_row_errors_and_offers_no_import(org, client_for, tmp_path,
                                                            django_capture_on_commit_callbacks):
    client = client_for(org.admin)
    path = write_csv(tmp_path / "bad.csv", [person("W1", department="NOPE")])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, path)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.INVALID
    page = client.get(reverse("org:import_batch", args=[batch.pk])).text
    assert "Import now" not in page and "NOPE" in page and "department_code" in page
    response = client.post(reverse("org:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert not Employee.objects.filter(employee_no="W1").exists()


def test_the_row_errors_are_in_the_uploaders_language(org, client_for, tmp_path,
                                                      django_capture_on_commit_callbacks):
    client = client_for(org.admin, language="zh-hans")
    path = write_csv(tmp_path / "bad.csv", [person("W1", department="NOPE")])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, path)
    assert "未知部门" in ImportBatch.objects.get().errors[0]["message"]


def test_the_upload_refuses_other_file_types(org, client_for, tmp_path):
    path = tmp_path / "evil.exe"
    path.write_bytes(b"MZ")
    response = upload(client_for(org.admin), path)
    assert response.status_code == 200 and "errorlist" in response.text
    assert not ImportBatch.objects.exists()


def test_the_templates_can_be_downloaded_and_imported_back(org, client_for, tmp_path):
    client = client_for(org.admin)
    xlsx = client.get(reverse("org:import_template_xlsx"))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    path = tmp_path / "template.xlsx"
    path.write_bytes(xlsx.content)
    result = dry_run(path)
    assert result.ok and result.counts["departments_created"] == 2 and result.counts["employees_created"] == 1
    csv_text = client.get(reverse("org:import_template_csv")).content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(csv_text))) == [
        "employee_no", "name", "department_code", "position", "level", "tags", "email", "mobile",
        "dingtalk_user_id", "wecom_user_id", "feishu_user_id", "hire_date", "active", "national_id",
    ]


def test_the_command_dry_run_and_import(org, tmp_path, capsys):
    path = write_csv(tmp_path / "people.csv", [person("C1"), person("C2")])
    call_command("import_org", str(path), "--dry-run", verbosity=0)
    assert not Employee.objects.filter(employee_no="C1").exists()
    call_command("import_org", str(path), "--as", "admin", verbosity=0)
    assert Employee.objects.filter(employee_no__in=["C1", "C2"]).count() == 2
    assert AuditEntry.objects.get(action="import").actor == org.admin.user


def test_the_command_fails_on_errors(org, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [person("C1", department="NOPE")])
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_org", str(path), verbosity=0)
    assert not Employee.objects.filter(employee_no="C1").exists()


def test_uploaded_files_are_deleted_once_used_or_expired(org, client_for, tmp_path,
                                                         django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from learntrace.org.tasks import expire_unconfirmed_imports

    client = client_for(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, write_csv(tmp_path / "a.csv", [person("X1")]))
        upload(client, write_csv(tmp_path / "b.csv", [person("X2")]))
    used, waiting = ImportBatch.objects.order_by("created_at")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[used.pk]))
    assert used.stored_path.startswith("uploads/") and not default_storage.exists(used.stored_path)
    assert default_storage.exists(waiting.stored_path)
    assert expire_unconfirmed_imports() == 0
    assert expire_unconfirmed_imports(now=timezone.now() + timedelta(days=2)) == 1
    waiting.refresh_from_db()
    assert waiting.status == ImportBatch.Status.EXPIRED and not default_storage.exists(waiting.stored_path)
    assert client.post(reverse("org:import_confirm", args=[waiting.pk])).status_code == 302
    assert not Employee.objects.filter(employee_no="X2").exists()
