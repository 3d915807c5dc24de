"""Directory sync from DingTalk, WeCom and Feishu contacts (local servers that answer as the platforms
document), through the organisation import: the same dry run, row errors, all-or-nothing apply and
audit, fields the directory does not give kept, missing people deactivated only when asked."""

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

import fake_directory
from conftest import make_department, make_employee
from learntrace.core.models import AuditEntry
from learntrace.directory import tasks
from learntrace.org.models import Department, Employee, ImportBatch

PLATFORMS = ["dingtalk", "wecom", "feishu"]
ID_FIELD = {"dingtalk": "dingtalk_user_id", "wecom": "wecom_user_id", "feishu": "feishu_user_id"}
# Feishu's root is "0" and is not a department of its own; DingTalk's and WeCom's root is "1".
ROOT = {"dingtalk": "1", "wecom": "1", "feishu": "0"}


@pytest.fixture
def directory(settings, db):
    cache.clear()  # app tokens of servers that ran before on the same port
    settings.DIRECTORY_DEPARTMENT_PREFIX = None
    settings.DIRECTORY_EMPLOYEE_NO = "number"
    settings.DIRECTORY_SYNC_DEACTIVATE_MISSING = False
    with fake_directory.running(settings) as server:
        yield server


def hospital(server, platform):
    """A small hospital: the root, nursing below it, a ward below nursing, two nurses."""
    if platform != "feishu":
        server.add_department("1", "人民医院")
    server.add_department("2", "护理部", ROOT[platform])
    server.add_department("3", "内科病房", "2")
    # WeCom has no number field: its userid is the employee number.
    server.add_person("N100", "张三", "3", number="N100", title="护士", mobile="13800000001",
                      email="zhang@example.com")
    server.add_person("N101", "李四", "2", number="N101", title="护士长")


def codes():
    return {d.code: (d.name, d.parent.code if d.parent_id else "") for d in Department.objects.all()}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_sync_brings_the_departments_and_people_with_their_platform_ids(directory, platform):
    hospital(directory, platform)
    call_command("sync_directory", platform, verbosity=0)
    expected = {f"{platform}-2": ("护理部", f"{platform}-{ROOT[platform]}"),
                f"{platform}-3": ("内科病房", f"{platform}-2")}
    expected[f"{platform}-{ROOT[platform]}"] = ("Feishu" if platform == "feishu" else "人民医院", "")
    assert codes() == expected
    people = {e.employee_no: (e.name, e.department.code, e.position, e.mobile, e.email, getattr(e, ID_FIELD[platform]),
                              e.is_active) for e in Employee.objects.select_related("department")}
    assert people == {
        "N100": ("张三", f"{platform}-3", "护士", "13800000001", "zhang@example.com", "N100", True),
        "N101": ("李四", f"{platform}-2", "护士长", "", "", "N101", True),
    }
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.status, batch.summary["departments_created"], batch.summary["employees_created"]) \
        == (platform, ImportBatch.Status.APPLIED, 3, 2)
    audit = AuditEntry.objects.get(action="import", object_type="organisation")
    assert audit.changes["employees_created"] == [None, 2]


def test_a_second_sync_changes_only_what_changed_and_keeps_what_the_directory_does_not_give(directory):
    hospital(directory, "dingtalk")
    call_command("sync_directory", "dingtalk", verbosity=0)
    Employee.objects.filter(employee_no="N101").update(email="li@example.com", national_id="11010519491231002X",
                                                       tags=",夜班,")
    directory.people["N100"]["title"] = "主管护师"
    call_command("sync_directory", "dingtalk", verbosity=0)
    latest = ImportBatch.objects.order_by("-created_at").first()
    assert latest.summary["employees_updated"] == 1 and latest.summary["employees_unchanged"] == 1
    assert latest.changed_rows[0]["key"] == "N100"
    assert latest.changed_rows[0]["fields"] == [["position", "护士", "主管护师"]]
    li = Employee.objects.get(employee_no="N101")
    assert (li.email, li.national_id, li.tags) == ("li@example.com", "11010519491231002X", ",夜班,")


def test_wecom_keeps_mobile_and_email_it_answers_empty(directory):
    hospital(directory, "wecom")
    department = make_department("X", "Elsewhere")
    make_employee("N101", "李四", department, mobile="13900000000", email="li@example.com")
    call_command("sync_directory", "wecom", verbosity=0)
    li = Employee.objects.get(employee_no="N101")
    assert (li.mobile, li.email, li.department.code, li.wecom_user_id) == ("13900000000", "li@example.com",
                                                                           "wecom-2", "N101")


def test_the_dry_run_writes_nothing_and_the_admin_can_confirm_it_later(directory, client_for, org,
                                                                       django_capture_on_commit_callbacks):
    hospital(directory, "dingtalk")
    before = codes()
    call_command("sync_directory", "dingtalk", "--dry-run", verbosity=0)
    assert codes() == before and not Employee.objects.filter(employee_no__startswith="N").exists()
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.summary["employees_created"]) == (ImportBatch.Status.VALIDATED, 2)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(org.admin).post(reverse("org:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert Employee.objects.filter(employee_no__startswith="N").count() == 2


def test_a_row_error_writes_nothing_and_names_the_directory_field(directory):
    hospital(directory, "dingtalk")
    directory.add_person("X1", "王五", "3")  # no job number
    with pytest.raises(CommandError, match="1 row error"):
        call_command("sync_directory", "dingtalk", verbosity=0)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.INVALID
    # The sheet is the directory's name in the deployment's language; the column its field.
    assert [(e["sheet"], e["row"], e["column"]) for e in batch.errors] == [("钉钉", 3, "job_number")]
    assert not Department.objects.exists() and not Employee.objects.exists()


def test_the_user_id_can_be_the_employee_number(directory, settings):
    settings.DIRECTORY_EMPLOYEE_NO = "userid"
    hospital(directory, "dingtalk")
    directory.add_person("ding-7", "王五", "3", number="")
    call_command("sync_directory", "dingtalk", verbosity=0)
    assert set(Employee.objects.values_list("employee_no", "dingtalk_user_id")) == {
        ("N100", "N100"), ("N101", "N101"), ("ding-7", "ding-7")}


def test_the_department_prefix_is_configurable(directory, settings):
    settings.DIRECTORY_DEPARTMENT_PREFIX = "DT"
    hospital(directory, "dingtalk")
    call_command("sync_directory", "dingtalk", verbosity=0)
    assert codes() == {"DT1": ("人民医院", ""), "DT2": ("护理部", "DT1"), "DT3": ("内科病房", "DT2")}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_people_are_deactivated_only_when_the_admin_chose_it(directory, platform):
    hospital(directory, platform)
    call_command("sync_directory", platform, verbosity=0)
    del directory.people["N101"]
    call_command("sync_directory", platform, verbosity=0)
    assert Employee.objects.get(employee_no="N101").is_active
    call_command("sync_directory", platform, "--deactivate-missing", verbosity=0)
    li = Employee.objects.get(employee_no="N101")
    assert not li.is_active and not li.user.is_active
    assert ImportBatch.objects.order_by("-created_at").first().summary["employees_deactivated"] == 1


@pytest.mark.parametrize("platform", ["wecom", "feishu"])
def test_people_who_left_by_their_status_are_deactivated(directory, platform):
    hospital(directory, platform)
    directory.people["N101"]["status"] = 5
    call_command("sync_directory", platform, verbosity=0)
    assert dict(Employee.objects.values_list("employee_no", "is_active")) == {"N100": True, "N101": False}


@pytest.mark.parametrize("platform, page", [("dingtalk", 100), ("feishu", 50)])
def test_large_departments_are_read_page_by_page(directory, platform, page):
    hospital(directory, platform)
    for number in range(230):
        directory.add_person(f"P{number:03}", f"护士{number}", "3", number=f"P{number:03}")
    call_command("sync_directory", platform, verbosity=0)
    assert Employee.objects.filter(employee_no__startswith="P").count() == 230
    people_pages = [size for size in directory.page_sizes if size == page]
    assert people_pages and set(directory.page_sizes) == {page}


def test_an_expired_token_is_fetched_again(directory):
    hospital(directory, "dingtalk")
    call_command("sync_directory", "dingtalk", verbosity=0)
    directory.expire_tokens()
    directory.people["N100"]["title"] = "主管护师"
    call_command("sync_directory", "dingtalk", verbosity=0)
    assert Employee.objects.get(employee_no="N100").position == "主管护师"
    assert directory.calls["/gettoken"] == 2


@pytest.mark.parametrize("platform, setting", [("dingtalk", "DINGTALK_APP_SECRET"),
                                               ("wecom", "WECOM_CONTACT_SECRET"),
                                               ("feishu", "FEISHU_APP_SECRET")])
def test_a_refused_secret_fails_the_batch_with_a_reason(directory, settings, platform, setting):
    hospital(directory, platform)
    setattr(settings, setting, "wrong")
    with pytest.raises(CommandError, match="未能响应通讯录同步"):  # in the deployment's language
        call_command("sync_directory", platform, verbosity=0)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.stored_path == ""
    assert not Employee.objects.exists()


def test_an_unknown_or_unconfigured_directory_is_refused(directory, settings):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("sync_directory", "teams", verbosity=0)
    settings.FEISHU_APP_ID = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("sync_directory", "feishu", verbosity=0)
    assert not ImportBatch.objects.exists()


def test_the_import_page_button_checks_the_directory_and_the_admin_confirms(directory, settings, client_for, org,
                                                                           django_capture_on_commit_callbacks):
    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    hospital(directory, "dingtalk")
    client = client_for(org.admin)
    page = client.get(reverse("org:import")).content.decode()
    assert 'action="/directory/sync/"' in page and "Sync from DingTalk" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("directory:sync"))
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("org:import_batch", args=[batch.pk])
    assert (batch.status, batch.source, batch.created_by_id) == (ImportBatch.Status.VALIDATED, "dingtalk",
                                                                  org.admin.user_id)
    assert not Employee.objects.filter(employee_no__startswith="N").exists()
    checked = client.get(reverse("org:import_batch", args=[batch.pk])).content.decode()
    assert "What the directory answered has no errors. Nothing has been written yet." in checked
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("org:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert Employee.objects.filter(employee_no__startswith="N").count() == 2


@pytest.mark.parametrize("who", ["learner", "head", "auditor"])
def test_only_admins_may_start_a_sync(directory, settings, client_for, org, who):
    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    assert client_for(getattr(org, who)).post(reverse("directory:sync")).status_code == 403
    assert "directory-sync" not in client_for(getattr(org, who)).get(reverse("org:import")).content.decode()
    assert not ImportBatch.objects.exists()


def test_a_sync_needs_a_logged_in_admin_and_a_post(directory, settings, client, client_for, org):
    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    response = client.post(reverse("directory:sync"))
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/directory/sync/")
    assert client_for(org.admin).get(reverse("directory:sync")).status_code == 405
    assert not ImportBatch.objects.exists()


def test_the_sync_form_needs_the_csrf_token(directory, settings, org):
    from django.test import Client

    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin.user)
    assert client.post(reverse("directory:sync")).status_code == 403
    assert not ImportBatch.objects.exists()


def test_the_button_says_when_no_directory_is_configured(directory, settings, client_for, org):
    settings.DIRECTORY_SYNC_SOURCE = "ldap"
    settings.DIRECTORY_LDAP_URL = ""
    response = client_for(org.admin).post(reverse("directory:sync"), follow=True)
    assert "LDAP is not configured for the directory sync" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_scheduled_sync_runs_once_per_interval_and_is_off_unless_configured(directory, settings):
    hospital(directory, "dingtalk")
    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    settings.DIRECTORY_SYNC_INTERVAL_MINUTES = 0
    assert tasks.run_scheduled_sync() is None
    settings.DIRECTORY_SYNC_INTERVAL_MINUTES = 60
    batch = tasks.run_scheduled_sync()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created_by is None
    assert tasks.run_scheduled_sync() is None
    assert ImportBatch.objects.count() == 1
    cache.delete(tasks.SCHEDULE_KEY)  # the interval has passed
    assert tasks.run_scheduled_sync().status == ImportBatch.Status.APPLIED
    assert ImportBatch.objects.count() == 2


def stuck_cursor(answer):
    if answer.get("result", {}).get("has_more"):
        answer["result"]["next_cursor"] = 0
    return answer


def looping_departments(answer):
    return {**answer, "result": answer["result"] + [{"dept_id": 1, "name": "人民医院", "parent_id": 3}]}


def repeated_page_token(answer):
    if answer.get("data", {}).get("has_more"):
        answer["data"]["page_token"] = "50"  # the second page's token, again and again
    return answer


@pytest.mark.parametrize("platform, path, odd", [
    ("dingtalk", "/topapi/v2/user/list", stuck_cursor),
    ("dingtalk", "/topapi/v2/department/listsub", looping_departments),
    ("feishu", "/open-apis/contact/v3/users/find_by_department", repeated_page_token),
])
def test_pages_that_never_end_stop_the_sync_with_a_reason(directory, platform, path, odd):
    hospital(directory, platform)
    for number in range(120):
        directory.add_person(f"P{number:03}", f"护士{number}", "3", number=f"P{number:03}")
    directory.odd[path] = odd
    with pytest.raises(CommandError, match="没有尽头"):
        call_command("sync_directory", platform, verbosity=0)
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert not Employee.objects.exists() and not Department.objects.exists()


def odd_people(answer):
    people = answer["result"]["list"]
    if not people:
        return answer
    people[0].update({"hired_date": 10 ** 20, "title": ["not", "text"]})
    return {**answer, "result": {**answer["result"], "list": [*people, "not a person", None]}}


def test_odd_values_from_the_platform_are_left_out_instead_of_failing(directory):
    hospital(directory, "dingtalk")
    directory.odd["/topapi/v2/user/list"] = odd_people
    directory.odd["/topapi/v2/department/listsub"] = lambda answer: {
        **answer, "result": [*answer["result"], "not a department", {"name": "no id"}]}
    call_command("sync_directory", "dingtalk", verbosity=0)
    assert set(Employee.objects.values_list("employee_no", "position", "email", "hire_date")) == {
        ("N100", "", "zhang@example.com", None), ("N101", "", "", None)}


def test_the_system_check_names_a_wrong_directory_setting(db, settings):  # the checks compare the keys
    from django.core import checks

    settings.DIRECTORY_SYNC_SOURCE, settings.DIRECTORY_EMPLOYEE_NO = "teams", "number"
    assert [m.id for m in checks.run_checks()] == ["learntrace.directory.E001"]
    settings.DIRECTORY_SYNC_SOURCE, settings.DIRECTORY_LDAP_URL = "ldap", ""
    settings.DIRECTORY_EMPLOYEE_NO = "mail"
    assert sorted(m.id for m in checks.run_checks()) == ["learntrace.directory.E002", "learntrace.directory.W001"]
