"""Directory sync from a real OpenLDAP server: organizational units become departments (nested as in
the tree), people the entries the filter finds, in the unit that holds them."""

import pytest
from django.core.management import CommandError, call_command

from ldap_server import ADMIN_DN, ADMIN_PASSWORD, BASE_DN, ldap_server  # noqa: F401  (the fixture)
from learntrace.org.models import Department, Employee, ImportBatch


@pytest.fixture
def directory(ldap_server, settings, db):  # noqa: F811
    ldap_server.clear()
    settings.DIRECTORY_LDAP_URL = ldap_server.url
    settings.DIRECTORY_LDAP_BIND_DN, settings.DIRECTORY_LDAP_BIND_PASSWORD = ADMIN_DN, ADMIN_PASSWORD
    settings.DIRECTORY_LDAP_BASE_DN = BASE_DN
    settings.DIRECTORY_DEPARTMENT_PREFIX = None
    settings.DIRECTORY_EMPLOYEE_NO = "number"
    unit = ["organizationalUnit"]
    ldap_server.add(f"ou=nursing,{BASE_DN}", unit, {"ou": "nursing", "description": "护理部"})
    ldap_server.add(f"ou=ward-a,ou=nursing,{BASE_DN}", unit, {"ou": "ward-a", "description": "内科病房"})
    person = ["inetOrgPerson"]
    ldap_server.add(f"uid=zhang,ou=ward-a,ou=nursing,{BASE_DN}", person, {
        "uid": "zhang", "cn": "Zhang San", "sn": "Zhang", "displayName": "张三", "employeeNumber": "N100",
        "title": "护士", "mail": "zhang@example.com", "mobile": "13800000001"})
    ldap_server.add(f"uid=li,ou=nursing,{BASE_DN}", person, {
        "uid": "li", "cn": "李四", "sn": "Li", "employeeNumber": "N101"})
    return ldap_server


def test_units_become_departments_and_people_employees(directory):
    call_command("sync_directory", "ldap", verbosity=0)
    assert {d.code: (d.name, d.parent.code if d.parent_id else "") for d in Department.objects.all()} == {
        "ldap-nursing": ("护理部", ""), "ldap-ward-a": ("内科病房", "ldap-nursing")}
    assert {e.employee_no: (e.name, e.department.code, e.position, e.email, e.mobile)
            for e in Employee.objects.select_related("department")} == {
        "N100": ("张三", "ldap-ward-a", "护士", "zhang@example.com", "13800000001"),
        "N101": ("李四", "ldap-nursing", "", "", "")}
    assert ImportBatch.objects.get().status == ImportBatch.Status.APPLIED


def test_what_ldap_does_not_hold_is_kept_and_missing_people_stay_unless_asked(directory):
    call_command("sync_directory", "ldap", verbosity=0)
    Employee.objects.filter(employee_no="N101").update(email="li@example.com", mobile="13900000000")
    connection = directory.connection()
    connection.delete(f"uid=zhang,ou=ward-a,ou=nursing,{BASE_DN}")
    connection.unbind()
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
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert not Employee.objects.exists()


def test_the_uid_can_be_the_employee_number(directory, settings):
    settings.DIRECTORY_EMPLOYEE_NO = "userid"
    call_command("sync_directory", "ldap", verbosity=0)
    assert set(Employee.objects.values_list("employee_no", flat=True)) == {"zhang", "li"}
