"""Directory sync from a real OpenLDAP server: organizational units become departments (nested as in
the tree), people the entries the filter finds, in the unit that holds them. The tests work in their
own subtree of the shared test server."""

import pytest
from django.core.management import CommandError, call_command

from ldap_server import ADMIN_DN, ADMIN_PASSWORD, SLAPD, SYNC_BASE, LdapServer, add, delete_tree
from learntrace.org.models import Department, Employee, ImportBatch


@pytest.fixture(scope="session")
def slapd():
    import os

    if not os.path.exists(SLAPD):
        pytest.skip("slapd is not installed (apt-get install slapd)")
    server = LdapServer().start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, settings, db):
    delete_tree(slapd, SYNC_BASE)
    settings.DIRECTORY_LDAP_URL = slapd.uri
    settings.DIRECTORY_LDAP_BIND_DN, settings.DIRECTORY_LDAP_BIND_PASSWORD = ADMIN_DN, ADMIN_PASSWORD
    settings.DIRECTORY_LDAP_BASE_DN = SYNC_BASE
    settings.DIRECTORY_DEPARTMENT_PREFIX = None
    settings.DIRECTORY_EMPLOYEE_NO = "number"
    unit = ["organizationalUnit"]
    add(slapd, SYNC_BASE, unit, {"ou": "sync", "description": "人民医院"})
    add(slapd, f"ou=nursing,{SYNC_BASE}", unit, {"ou": "nursing", "description": "护理部"})
    add(slapd, f"ou=ward-a,ou=nursing,{SYNC_BASE}", unit, {"ou": "ward-a", "description": "内科病房"})
    person = ["inetOrgPerson"]
    add(slapd, f"uid=zhang,ou=ward-a,ou=nursing,{SYNC_BASE}", person, {
        "uid": "zhang", "cn": "Zhang San", "sn": "Zhang", "displayName": "张三", "employeeNumber": "N100",
        "title": "护士", "mail": "zhang@example.com", "mobile": "13800000001"})
    add(slapd, f"uid=li,ou=nursing,{SYNC_BASE}", person, {"uid": "li", "cn": "李四", "sn": "Li",
                                                          "employeeNumber": "N101"})
    yield slapd
    delete_tree(slapd, SYNC_BASE)


def test_units_become_departments_and_people_employees(directory):
    call_command("sync_directory", "ldap", verbosity=0)
    assert {d.code: (d.name, d.parent.code if d.parent_id else "") for d in Department.objects.all()} == {
        "ldap-sync": ("人民医院", ""), "ldap-nursing": ("护理部", "ldap-sync"),
        "ldap-ward-a": ("内科病房", "ldap-nursing")}
    assert {e.employee_no: (e.name, e.department.code, e.position, e.email, e.mobile)
            for e in Employee.objects.select_related("department")} == {
        "N100": ("张三", "ldap-ward-a", "护士", "zhang@example.com", "13800000001"),
        "N101": ("李四", "ldap-nursing", "", "", "")}
    assert ImportBatch.objects.get().status == ImportBatch.Status.APPLIED


def test_more_people_than_a_page_are_all_read(directory, settings):
    for number in range(1203):
        add(directory, f"uid=p{number},ou=ward-a,ou=nursing,{SYNC_BASE}", ["inetOrgPerson"],
            {"uid": f"p{number}", "cn": f"护士{number}", "sn": "P", "employeeNumber": f"P{number:04}"})
    call_command("sync_directory", "ldap", verbosity=0)
    assert Employee.objects.filter(employee_no__startswith="P", department__code="ldap-ward-a").count() == 1203


def test_what_ldap_does_not_hold_is_kept_and_missing_people_stay_unless_asked(directory):
    import ldap_server

    call_command("sync_directory", "ldap", verbosity=0)
    Employee.objects.filter(employee_no="N101").update(email="li@example.com", mobile="13900000000")
    delete_tree(directory, f"uid=zhang,ou=ward-a,ou=nursing,{ldap_server.SYNC_BASE}")
    call_command("sync_directory", "ldap", verbosity=0)
    li = Employee.objects.get(employee_no="N101")
    assert (li.email, li.mobile) == ("li@example.com", "13900000000")
    assert Employee.objects.get(employee_no="N100").is_active
    call_command("sync_directory", "ldap", "--deactivate-missing", verbosity=0)
    assert not Employee.objects.get(employee_no="N100").is_active


def test_a_wrong_bind_password_fails_the_sync_with_a_reason(directory, settings):
    settings.DIRECTORY_LDAP_BIND_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="LDAP"):
        call_command("sync_directory", "ldap", verbosity=0)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert "INVALID_CREDENTIALS" in batch.errors[0]["message"]
    assert not Employee.objects.exists()


def test_the_uid_can_be_the_employee_number(directory, settings):
    settings.DIRECTORY_EMPLOYEE_NO = "userid"
    call_command("sync_directory", "ldap", verbosity=0)
    assert set(Employee.objects.values_list("employee_no", flat=True)) == {"zhang", "li"}
