"""Changes to the organisation. Each function is one atomic change with its audit entry."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from learntrace.core.audit import field_changes, record_change
from learntrace.org.models import Department, Employee, Role, RoleGrant
from learntrace.org.signals import employees_changed

User = get_user_model()

EMPLOYEE_FIELDS = [
    "employee_no", "name", "department_id", "position", "level", "tags", "email", "mobile",
    "dingtalk_user_id", "wecom_user_id", "feishu_user_id", "hire_date", "is_active", "national_id",
]


DEPARTMENT_FIELDS = ["code", "name", "parent_id", "is_active"]


def department_path(parent: Department | None, pk: int) -> str:
    # Zero-padded so that ordering by path is depth-first tree order.
    return f"{parent.path if parent else '/'}{pk:08d}/"


def _path_for(department: Department) -> str:
    return department_path(department.parent if department.parent_id else None, department.pk)


def _check_no_cycle(department: Department, parent: Department | None) -> None:
    if parent is None or department.pk is None:
        return
    if parent.pk == department.pk or parent.path.startswith(department.path):
        raise ValidationError({"parent": _("A department cannot be placed under itself or its own sub-department.")})


@transaction.atomic
def department_save(*, actor, department: Department) -> Department:
    """Create or update a department, keeping the paths of its subtree right when it moves."""
    is_new = department.pk is None
    before = None if is_new else Department.objects.get(pk=department.pk)
    old_path = department.path
    if not is_new:
        _check_no_cycle(department, department.parent)
    department.save()
    new_path = _path_for(department)
    if new_path != old_path:
        Department.objects.filter(pk=department.pk).update(path=new_path)
        if old_path:
            # Re-root every descendant in one statement.
            Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk).update(
                path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
            )
        department.path = new_path
    record_change(actor=actor, action="create" if is_new else "update", obj=department,
                  summary=department.name, changes=field_changes(before, department, DEPARTMENT_FIELDS))
    return department


def _sync_user_active(employee: Employee) -> None:
    if employee.user_id and employee.user.is_active != employee.is_active:
        # Someone who left the company can no longer log in.
        User.objects.filter(pk=employee.user_id).update(is_active=employee.is_active)


@transaction.atomic
def employee_save(*, actor, employee: Employee) -> Employee:
    is_new = employee.pk is None
    before = None if is_new else Employee.objects.get(pk=employee.pk)
    if employee.user_id is None:
        existing = User.objects.filter(username=employee.employee_no).first()
        if existing is not None and not hasattr(existing, "employee"):
            employee.user = existing
        elif existing is None:
            user = User(username=employee.employee_no, email=employee.email, is_active=employee.is_active)
            user.set_unusable_password()
            user.save()
            employee.user = user
    employee.save()
    _sync_user_active(employee)
    transaction.on_commit(lambda: employees_changed.send(sender=Employee, employee_ids=[employee.pk]))
    record_change(actor=actor, action="create" if is_new else "update", obj=employee,
                  summary=employee.employee_no, changes=field_changes(before, employee, EMPLOYEE_FIELDS))
    return employee


@transaction.atomic
def employee_set_password(*, actor, employee: Employee, password: str) -> None:
    user = employee.user
    user.set_password(password)
    user.save(update_fields=["password"])
    record_change(actor=actor, action="set_password", obj=employee, summary=employee.employee_no,
                  changes={"password": ("", "")})


@transaction.atomic
def role_grant(*, actor, user, role: str, department: Department | None = None) -> RoleGrant:
    if role == Role.LEARNER:
        raise ValidationError(_("Every active employee is a learner; no grant is needed."))
    if role == Role.DEPARTMENT_HEAD and department is None:
        raise ValidationError({"department": _("A department head needs a department.")})
    if role != Role.DEPARTMENT_HEAD:
        department = None
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, department=department, defaults={"granted_by": actor}
    )
    if created:
        record_change(actor=actor, action="grant_role", obj=grant, summary=user.username,
                      changes={"role": (None, role), "department": (None, department and department.code)})
    return grant


@transaction.atomic
def role_revoke(*, actor, grant: RoleGrant) -> None:
    record_change(actor=actor, action="revoke_role", obj=grant,
                  summary=grant.user.username,  # the role is in the changes, shown by its label
                  changes={"role": (grant.role, None)})
    grant.delete()
