"""Columns that an import file or an API upsert leaves out keep their values; the dry run and
the audit trail say field by field what changes."""

import csv
import datetime as dt

import pytest
from django.urls import reverse

from learntrace.core.models import AuditEntry
from learntrace.org.importing import OrgImport
from learntrace.org.models import Department, Employee, ImportBatch, Level
from learntrace.plans import services as plans
from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanDepartment

NATIONAL_ID = "11010519491231002X"
OTHER_NATIONAL_ID = "110101199003074477"


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def fill_in(employee) -> Employee:
    """Everything an employee can have, so that a lost field shows."""
    Employee.objects.filter(pk=employee.pk).update(
        position="", email="li@example.com", mobile="13800000001", dingtalk_user_id="ding-li",
        wecom_user_id="wecom-li", feishu_user_id="feishu-li", hire_date=dt.date(2019, 4, 1),
        tags=Employee.join_tags(["新任经理", "导师"]), level=Level.MANAGER)
    employee.refresh_from_db()
    employee.national_id = NATIONAL_ID
    employee.save()
    employee.refresh_from_db()
    return employee


def stored(employee) -> dict:
    employee.refresh_from_db()
    return {name: getattr(employee, name) for name in (
        "name", "department_id", "level", "tags", "email", "mobile", "dingtalk_user_id", "wecom_user_id",
        "feishu_user_id", "hire_date", "is_active", "national_id")}


@pytest.fixture
def managers_plan(org, django_capture_on_commit_callbacks):
    plan = LearningPlan.objects.create(name="Managers", period_type=PeriodType.MONTHLY,
                                       starts_on=dt.date(2026, 1, 1), audience_levels=[Level.MANAGER],
                                       min_total_seconds=3600)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plans.publish_plan(actor=None, plan=plan)
    return plan


def open_assignments(employee) -> int:
    """Assignments to the plan's current period that the person has not left."""
    from django.utils import timezone

    return Assignment.objects.filter(employee=employee, removed_at__isnull=True,
                                     period__starts_at__lte=timezone.now(), period__ends_at__gt=timezone.now()).count()


def test_a_file_with_some_columns_changes_only_those(org, managers_plan, tmp_path,
                                                     django_capture_on_commit_callbacks):
    learner = fill_in(org.learner)
    assert open_assignments(learner) == 1
    before = stored(learner)
    path = write_csv(tmp_path / "positions.csv", ["工号", "姓名", "部门编码", "职位"],
                     [[learner.employee_no, learner.name, "IM-CARD", "主治医师"]])
    checked = OrgImport(path, path.name).dry_run()
    assert checked.ok and checked.counts["employees_updated"] == 1
    assert checked.changed_rows == [{"sheet": "CSV", "row": 2, "kind": "employee", "key": "E001",
                                     "name": learner.name, "fields": [["position", "", "主治医师"]]}]
    with django_capture_on_commit_callbacks(execute=True):
        result = OrgImport(path, path.name).apply(actor=org.admin.user)
    assert result.ok
    assert stored(learner) == before
    assert learner.position == "主治医师"
    assert open_assignments(learner) == 1
    entry = AuditEntry.objects.get(action="import_update")
    assert (entry.object_type, entry.object_id, entry.actor) == ("employee", str(learner.pk), org.admin.user)
    assert entry.changes == {"position": ["", "主治医师"]}


def test_empty_cells_of_present_columns_clear_and_the_dry_run_says_so(org, tmp_path):
    learner = fill_in(org.learner)
    path = write_csv(tmp_path / "clear.csv", ["employee_no", "name", "department_code", "email", "level",
                                              "national_id", "tags", "hire_date"],
                     [[learner.employee_no, learner.name, "IM-CARD", "", "", OTHER_NATIONAL_ID, "", ""]])
    checked = OrgImport(path, path.name).dry_run()
    assert checked.changed_rows[0]["fields"] == [
        ["level", "manager", "staff"], ["tags", "导师, 新任经理", ""], ["email", "li@example.com", ""],
        ["hire_date", "2019-04-01", ""], ["national_id", "1101**********002X", "1101**********4477"],
    ]
    OrgImport(path, path.name).apply(actor=None)
    learner.refresh_from_db()
    assert (learner.email, learner.level, learner.tags, learner.hire_date, learner.national_id) == (
        "", Level.STAFF, "", None, OTHER_NATIONAL_ID)
    assert (learner.mobile, learner.dingtalk_user_id, learner.feishu_user_id) == (
        "13800000001", "ding-li", "feishu-li")
    changes = AuditEntry.objects.get(action="import_update").changes
    assert changes["national_id"] == ["***", "***"]
    assert changes["email"] == ["li@example.com", ""]
    assert NATIONAL_ID not in str(changes) and "002X" not in str(changes)


def test_a_deactivated_employee_stays_deactivated_when_the_file_has_no_active_column(org, tmp_path):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    path = write_csv(tmp_path / "names.csv", ["employee_no", "name", "department_code"],
                     [[org.outsider.employee_no, "Renamed outsider", "SURG"]])
    assert OrgImport(path, path.name).apply(actor=None).ok
    org.outsider.refresh_from_db()
    assert (org.outsider.name, org.outsider.is_active) == ("Renamed outsider", False)


def test_a_new_employee_gets_the_defaults_of_the_columns_left_out(org, tmp_path):
    path = write_csv(tmp_path / "new.csv", ["employee_no", "name", "department_code"], [["N1", "New", "IM"]])
    assert OrgImport(path, path.name).apply(actor=None).ok
    new = Employee.objects.get(employee_no="N1")
    assert (new.level, new.is_active, new.email, new.hire_date, new.tags) == (Level.STAFF, True, "", None, "")


def test_departments_without_a_parent_column_stay_where_they_are(org, tmp_path):
    path = write_csv(tmp_path / "names.csv", ["code", "name"], [["IM-CARD", "心内科"], ["NEW", "新科室"]])
    checked = OrgImport(path, path.name).dry_run()
    assert checked.changed_rows == [{"sheet": "CSV", "row": 2, "kind": "department", "key": "IM-CARD",
                                     "name": "Cardiology", "fields": [["name", "Cardiology", "心内科"]]}]
    assert OrgImport(path, path.name).apply(actor=None).ok
    cardiology = Department.objects.get(code="IM-CARD")
    assert (cardiology.name, cardiology.parent) == ("心内科", org.a)
    assert Department.objects.get(code="NEW").parent is None


def test_an_empty_parent_cell_moves_the_department_to_the_top(org, tmp_path):
    path = write_csv(tmp_path / "top.csv", ["code", "name", "parent_code"], [["IM-CARD", "Cardiology", ""]])
    checked = OrgImport(path, path.name).dry_run()
    assert checked.changed_rows[0]["fields"] == [["parent_code", "IM", ""]]
    OrgImport(path, path.name).apply(actor=None)
    assert Department.objects.get(code="IM-CARD").parent is None


def test_deactivations_are_listed_in_the_dry_run(org, tmp_path):
    keep = [[e.employee_no, e.name, e.department.code] for e in (org.head, org.admin, org.auditor, org.learner)]
    path = write_csv(tmp_path / "all.csv", ["employee_no", "name", "department_code"], keep)
    checked = OrgImport(path, path.name, deactivate_missing=True).dry_run()
    assert checked.changed_rows == [{"sheet": "", "row": 0, "kind": "employee", "key": "E002",
                                     "name": org.outsider.name, "fields": [["active", True, False]]}]
    OrgImport(path, path.name, deactivate_missing=True).apply(actor=org.admin.user)
    entry = AuditEntry.objects.get(action="import_deactivate")
    assert (entry.object_id, entry.changes) == (str(org.outsider.pk), {"active": [True, False]})


# ---------------------------------------------------------------- the page


def upload(client, path):
    with path.open("rb") as handle:
        return client.post(reverse("org:import"), {"file": handle})


@pytest.mark.parametrize("language,texts", [
    ("en", ["What will change", "national ID number", "1101**********002X", "(empty)", "e-mail", "Manager",
            "Staff"]),
    ("zh-hans", ["将要变更的内容", "身份证号", "1101**********002X", "(空)", "邮箱", "经理", "员工"]),
])
def test_the_dry_run_page_lists_each_change(org, client_for, tmp_path, django_capture_on_commit_callbacks,
                                            language, texts):
    learner = fill_in(org.learner)
    Employee.objects.filter(pk=learner.pk).update(national_id="")
    path = write_csv(tmp_path / "some.csv", ["工号", "姓名", "部门编码", "邮箱", "职级", "身份证号"],
                     [[learner.employee_no, learner.name, "IM-CARD", "", "员工", NATIONAL_ID]])
    client = client_for(org.admin, language=language)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, path)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.VALIDATED and batch.changed_row_count == 1
    assert NATIONAL_ID not in str(batch.changed_rows)
    page = client.get(reverse("org:import_batch", args=[batch.pk])).text
    for text in texts:
        assert text in page
    assert NATIONAL_ID not in page
    assert 'data-key="E001" data-column="email"' in page and 'class="new cleared"' in page


# ---------------------------------------------------------------- the API


def call(client, secret, path, body, **params):
    import json

    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.put(f"/api/v1{path}{'?' + query if query else ''}", data=json.dumps(body),
                          content_type="application/json", headers={"Authorization": f"Bearer {secret}"})
    return response.status_code, response.json()


@pytest.fixture
def writer_token(org):
    from learntrace.api.tokens import create_token

    return create_token(actor=None, user=org.admin.user, name="hr system", scopes=["org:write"], expires_days=1)[1]


def test_the_api_leaves_out_what_is_not_sent(org, managers_plan, client, writer_token,
                                             django_capture_on_commit_callbacks):
    learner = fill_in(org.learner)
    before = stored(learner)
    with django_capture_on_commit_callbacks(execute=True):
        status, body = call(client, writer_token, "/employees", {"employees": [
            {"employee_no": "E001", "position": "主治医师", "email": None}]})
    assert status == 200, body
    assert body["counts"]["employees_updated"] == 1
    assert stored(learner) == before and learner.position == "主治医师"
    assert open_assignments(learner) == 1
    assert AuditEntry.objects.get(action="import_update").changes == {"position": ["", "主治医师"]}


def test_the_api_does_not_check_again_what_it_was_not_sent(org, client, writer_token):
    # A value stored before today's checks (or a department closed since) must not block other changes.
    Employee.objects.filter(pk=org.learner.pk).update(email="not-an-address")
    Department.objects.filter(pk=org.a1.pk).update(is_active=False)
    status, body = call(client, writer_token, "/employees", {"employees": [{"employee_no": "E001", "mobile": "139"}]})
    assert status == 200, body
    org.learner.refresh_from_db()
    assert (org.learner.mobile, org.learner.email, org.learner.department_id) == ("139", "not-an-address", org.a1.pk)


def test_the_api_needs_a_name_and_department_for_a_new_employee_only(org, client, writer_token):
    status, body = call(client, writer_token, "/employees", {"employees": [{"employee_no": "N1", "position": "x"}]})
    assert status == 400
    assert set(body["error"]["fields"]) == {"employees[0].name", "employees[0].department_code"}
    assert not Employee.objects.filter(employee_no="N1").exists()


def test_the_api_keeps_a_departments_parent_or_name_when_left_out(org, client, writer_token):
    status, body = call(client, writer_token, "/departments", {"departments": [
        {"code": "IM-CARD", "name": "心内科"}, {"code": "SURG", "parent_code": "IM"}]})
    assert status == 200, body
    cardiology, surgery = Department.objects.get(code="IM-CARD"), Department.objects.get(code="SURG")
    assert (cardiology.name, cardiology.parent) == ("心内科", org.a)
    assert (surgery.name, surgery.parent) == ("Surgery", org.a)
    status, body = call(client, writer_token, "/departments", {"departments": [{"code": "NEW"}]})
    assert status == 400 and set(body["error"]["fields"]) == {"departments[0].name"}


def test_the_command_prints_each_change(org, tmp_path, capsys):
    from django.core.management import call_command

    path = write_csv(tmp_path / "positions.csv", ["工号", "姓名", "部门编码", "职位"],
                     [[org.learner.employee_no, org.learner.name, "IM-CARD", "主治医师"]])
    call_command("import_org", str(path), "--dry-run", verbosity=0)
    assert "employee E001: position: '' -> '主治医师'" in capsys.readouterr().out
