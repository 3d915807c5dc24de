"""Role boundaries: every page refuses the people who should not see it."""

import pytest
from django.urls import reverse

from learntrace.org.access import access_employee, roles_of, visible_employees
from learntrace.org.models import Employee, Role, RoleGrant

ADMIN_PAGES = [
    ("org:department_new", {}),
    ("org:employee_new", {}),
    ("org:import", {}),
    ("org:import_template_xlsx", {}),
    ("home:system", {}),
]


def test_roles_are_derived_from_grants(org):
    assert roles_of(org.learner.user).names == [Role.LEARNER]
    assert roles_of(org.head.user).is_head and not roles_of(org.head.user).is_admin
    assert roles_of(org.admin.user).is_admin and not roles_of(org.admin.user).is_auditor
    assert roles_of(org.auditor.user).can_read_all and not roles_of(org.auditor.user).is_admin


def test_a_learner_sees_only_themselves(org):
    assert list(visible_employees(org.learner.user)) == [org.learner]


def test_a_department_head_sees_their_subtree_only(org):
    visible = set(visible_employees(org.head.user))
    assert visible == {org.head, org.learner}
    assert org.outsider not in visible


def test_a_head_of_a_deactivated_department_loses_the_scope(org):
    org.a.is_active = False
    org.a.save()
    assert list(visible_employees(org.head.user)) == [org.head]


def test_access_employee_hides_others_with_404(org):
    from django.http import Http404

    with pytest.raises(Http404):
        access_employee(org.learner.user, org.outsider.pk)
    with pytest.raises(Http404):
        access_employee(org.head.user, org.outsider.pk)
    assert access_employee(org.head.user, org.learner.pk) == org.learner


@pytest.mark.parametrize("name,kwargs", ADMIN_PAGES)
@pytest.mark.parametrize("who", ["learner", "head", "auditor"])
def test_admin_pages_are_refused_to_everyone_else(org, client_for, who, name, kwargs):
    response = client_for(getattr(org, who)).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


@pytest.mark.parametrize("name,kwargs", ADMIN_PAGES)
def test_admin_pages_open_for_the_training_admin(org, client_for, name, kwargs):
    assert client_for(org.admin).get(reverse(name, kwargs=kwargs)).status_code == 200


@pytest.mark.parametrize("url", ["/", "/org/me/", "/org/employees/", "/org/import/", "/system/"])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_learner_cannot_open_another_persons_profile(org, client_for):
    client = client_for(org.learner)
    assert client.get(reverse("org:employee", args=[org.outsider.pk])).status_code == 404
    assert client.get(reverse("org:employee", args=[org.head.pk])).status_code == 404
    own = client.get(reverse("org:me"))
    assert own.status_code == 200 and org.learner.name in own.text


def test_a_learner_cannot_list_employees_or_departments(org, client_for):
    client = client_for(org.learner)
    assert client.get(reverse("org:employees")).status_code == 403
    assert client.get(reverse("org:departments")).status_code == 403
    assert client.get(reverse("home:audit")).status_code == 403


def test_a_department_head_lists_only_their_people(org, client_for):
    response = client_for(org.head).get(reverse("org:employees"))
    assert response.status_code == 200
    assert org.learner.name in response.text
    assert org.outsider.name not in response.text
    # Filtering by a department outside the subtree is refused, not answered with its people.
    filtered = client_for(org.head).get(reverse("org:employees"), {"department": org.b.pk})
    assert org.outsider.name not in filtered.text
    assert client_for(org.head).get(reverse("org:employee", args=[org.outsider.pk])).status_code == 404


def test_a_department_head_cannot_edit(org, client_for):
    client = client_for(org.head)
    assert client.get(reverse("org:employee_edit", args=[org.learner.pk])).status_code == 403
    response = client.post(reverse("org:employee_edit", args=[org.learner.pk]), {"name": "changed"})
    assert response.status_code == 403
    org.learner.refresh_from_db()
    assert org.learner.name == "Learner in cardiology"


def test_an_auditor_reads_everything_and_changes_nothing(org, client_for):
    client = client_for(org.auditor)
    assert org.outsider.name in client.get(reverse("org:employees")).text
    assert client.get(reverse("org:employee", args=[org.outsider.pk])).status_code == 200
    assert client.get(reverse("home:audit")).status_code == 200
    before = Employee.objects.get(pk=org.outsider.pk).name
    writes = [
        (reverse("org:employee_edit", args=[org.outsider.pk]), {"name": "x"}),
        (reverse("org:department_edit", args=[org.b.pk]), {"code": "SURG", "name": "x"}),
        (reverse("org:employee_roles", args=[org.auditor.pk]), {"role": "training_admin"}),
        (reverse("org:employee_password", args=[org.outsider.pk]), {"new_password1": "a", "new_password2": "a"}),
        (reverse("org:import"), {}),
        (reverse("home:ping_worker"), {}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 403, url
    assert Employee.objects.get(pk=org.outsider.pk).name == before
    assert not RoleGrant.objects.filter(user=org.auditor.user, role=Role.TRAINING_ADMIN).exists()


def test_nobody_but_superusers_opens_the_django_admin(org, client_for):
    response = client_for(org.admin).get("/admin/")
    assert response.status_code == 302  # to the admin login: a training admin is not staff
    org.admin.user.is_staff = org.admin.user.is_superuser = True
    org.admin.user.save()
    assert client_for(org.admin).get("/admin/org/employee/").status_code == 200


def test_a_deactivated_employee_is_not_a_learner_anymore(org):
    org.learner.is_active = False
    org.learner.save()
    assert roles_of(org.learner.user).names == []


def test_reports_read_the_departments_the_pages_show(org):
    from learntrace.org.access import visible_departments
    from learntrace.org.models import Employee
    from learntrace.reports.selectors import Scope

    expected = {org.admin: 5, org.auditor: 5, org.head: 2, org.learner: 0}
    for person, count in expected.items():
        user = person.user
        in_reports = set(Employee.objects.filter(Scope.of(user).q("department__path")).values_list("pk", flat=True))
        on_pages = set(Employee.objects.filter(department__in=visible_departments(user)).values_list("pk", flat=True))
        assert in_reports == on_pages and len(in_reports) == count
