"""Editing departments, employees and roles through the pages, with the audit trail."""

from django.db import connection
from django.urls import reverse

from learntrace.core.models import AuditEntry
from learntrace.org.models import Department, Employee, Role, RoleGrant

VALID_ID = "11010519491231002X"


def employee_form(**overrides):
    data = {
        "employee_no": "N100", "name": "New manager", "department": "", "position": "Ward manager",
        "level": "manager", "tags": "新任经理, mentor", "email": "new@example.com", "mobile": "13900000000",
        "dingtalk_user_id": "dt1", "wecom_user_id": "", "feishu_user_id": "", "hire_date": "2024-03-01",
        "is_active": "on", "new_national_id": VALID_ID,
    }
    data.update(overrides)
    return data


def test_the_department_tree_lists_departments_in_tree_order(org, client_for):
    response = client_for(org.admin).get(reverse("org:departments"))
    text = response.text
    assert text.index("Internal medicine") < text.index("Cardiology") < text.index("Surgery")


def test_moving_a_department_moves_its_subtree(org, client_for):
    response = client_for(org.admin).post(reverse("org:department_edit", args=[org.a.pk]), {
        "code": "IM", "name": "Internal medicine", "parent": org.b.pk, "is_active": "on",
    })
    assert response.status_code == 302
    org.a1.refresh_from_db()
    assert org.a1.path == f"{org.root.path}{org.b.pk:08d}/{org.a.pk:08d}/{org.a1.pk:08d}/"
    assert set(Department.objects.get(pk=org.b.pk).subtree()) == {org.b, org.a, org.a1}
    assert AuditEntry.objects.filter(action="update", object_type="department").exists()


def test_a_department_cannot_move_under_its_own_child(org, client_for):
    response = client_for(org.admin).post(reverse("org:department_edit", args=[org.a.pk]), {
        "code": "IM", "name": "Internal medicine", "parent": org.a1.pk, "is_active": "on",
    })
    assert response.status_code == 200
    assert "errorlist" in response.text
    org.a.refresh_from_db()
    assert org.a.parent_id == org.root.pk


def test_a_duplicate_department_code_is_refused(org, client_for):
    response = client_for(org.admin).post(reverse("org:department_new"), {"code": "IM", "name": "Copy"})
    assert response.status_code == 200
    assert Department.objects.filter(code="IM").count() == 1


def test_creating_an_employee_encrypts_the_national_id_and_masks_it(org, client_for):
    client = client_for(org.admin)
    response = client.post(reverse("org:employee_new"), employee_form(department=org.a.pk))
    assert response.status_code == 302, response.text
    employee = Employee.objects.get(employee_no="N100")
    assert employee.national_id == VALID_ID
    assert employee.tag_list == ["mentor", "新任经理"]
    assert employee.user.username == "N100" and not employee.user.has_usable_password()
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM org_employee WHERE id = %s", [employee.pk])
        stored = cursor.fetchone()[0]
    assert VALID_ID not in stored and len(stored) > 50
    page = client.get(reverse("org:employee", args=[employee.pk])).text
    assert VALID_ID not in page
    assert "1101**********002X" in page
    edit_page = client.get(reverse("org:employee_edit", args=[employee.pk])).text
    assert VALID_ID not in edit_page
    entry = AuditEntry.objects.get(action="create", object_type="employee")
    assert VALID_ID not in str(entry.changes)


def test_editing_without_a_new_id_keeps_the_old_one(org, client_for):
    client = client_for(org.admin)
    client.post(reverse("org:employee_new"), employee_form(department=org.a.pk))
    employee = Employee.objects.get(employee_no="N100")
    response = client.post(reverse("org:employee_edit", args=[employee.pk]),
                           employee_form(department=org.b.pk, new_national_id="", position="Chief"))
    assert response.status_code == 302
    employee.refresh_from_db()
    assert employee.national_id == VALID_ID and employee.department == org.b and employee.position == "Chief"
    entry = AuditEntry.objects.filter(action="update", object_type="employee").first()
    assert set(entry.changes) == {"department_id", "position"}


def test_a_wrong_national_id_is_refused_with_a_reason(org, client_for):
    response = client_for(org.admin).post(reverse("org:employee_new"),
                                          employee_form(department=org.a.pk, new_national_id="110105194912310021"))
    assert response.status_code == 200
    assert "national ID" in response.text
    assert not Employee.objects.filter(employee_no="N100").exists()


def test_bad_employee_input_gets_errors_not_a_crash(org, client_for):
    response = client_for(org.admin).post(reverse("org:employee_new"), employee_form(
        department="999999", email="not-an-address", hire_date="2024-02-30", level="king", employee_no="",
    ))
    assert response.status_code == 200
    assert response.text.count('class="errorlist"') >= 4
    assert Employee.objects.count() == 5


def test_deactivating_an_employee_blocks_their_login(org, client_for):
    data = employee_form(employee_no=org.learner.employee_no, name=org.learner.name, department=org.a1.pk,
                         new_national_id="")
    data.pop("is_active")
    response = client_for(org.admin).post(reverse("org:employee_edit", args=[org.learner.pk]), data)
    assert response.status_code == 302
    org.learner.user.refresh_from_db()
    assert not org.learner.user.is_active


def test_giving_and_taking_away_a_department_head_role(org, client_for):
    client = client_for(org.admin)
    url = reverse("org:employee_roles", args=[org.outsider.pk])
    assert client.post(url, {"role": "department_head"}).status_code == 200  # no department: refused
    assert not RoleGrant.objects.filter(user=org.outsider.user).exists()
    assert client.post(url, {"role": "department_head", "department": org.b.pk}).status_code == 302
    grant = RoleGrant.objects.get(user=org.outsider.user)
    assert grant.role == Role.DEPARTMENT_HEAD and grant.department == org.b
    client.post(reverse("org:employee_role_revoke", args=[org.outsider.pk, grant.pk]))
    assert not RoleGrant.objects.filter(user=org.outsider.user).exists()
    assert AuditEntry.objects.filter(action__in=["grant_role", "revoke_role"]).count() == 2


def test_an_admin_cannot_remove_their_own_admin_role(org, client_for):
    grant = RoleGrant.objects.get(user=org.admin.user, role=Role.TRAINING_ADMIN)
    client_for(org.admin).post(reverse("org:employee_role_revoke", args=[org.admin.pk, grant.pk]))
    assert RoleGrant.objects.filter(pk=grant.pk).exists()


def test_setting_a_password_for_an_employee(org, client_for):
    new = "a fresh password 2024"
    response = client_for(org.admin).post(reverse("org:employee_password", args=[org.outsider.pk]),
                                          {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    org.outsider.user.refresh_from_db()
    assert org.outsider.user.check_password(new)
    entry = AuditEntry.objects.get(action="set_password")
    assert new not in str(entry.changes)


def test_the_employee_list_filters(org, client_for):
    client = client_for(org.admin)
    by_department = client.get(reverse("org:employees"), {"department": org.a.pk}).text
    assert org.learner.name in by_department and org.outsider.name not in by_department
    by_level = client.get(reverse("org:employees"), {"level": "manager"}).text
    assert org.learner.name in by_level and org.head.name not in by_level
    by_text = client.get(reverse("org:employees"), {"q": "surgery"}).text
    assert org.outsider.name in by_text and org.learner.name not in by_text
    garbage = client.get(reverse("org:employees"), {"department": "abc", "page": "-3"})
    assert garbage.status_code == 200


def test_the_employee_list_does_not_grow_queries_with_people(org, client_for, django_assert_max_num_queries):
    client = client_for(org.admin)
    with django_assert_max_num_queries(12):
        client.get(reverse("org:employees"))
