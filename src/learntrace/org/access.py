"""Who may see and change what. Every view fetches people and departments through
these helpers, so that no page can skip the check.

- training admin (and superuser): everything, read and write;
- auditor: everything, read only;
- department head: read the people of their department subtrees;
- learner: themselves only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from learntrace.org.models import Department, Employee, Role, RoleGrant

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as AccountUser
    from django.http import HttpRequest, HttpResponse

    # The person asking: a request's user, signed in or not.
    User = AccountUser | AnonymousUser
    View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Roles:
    is_admin: bool = False
    is_auditor: bool = False
    head_paths: tuple[str, ...] = field(default_factory=tuple)
    employee_id: int | None = None

    @property
    def is_head(self) -> bool:
        return bool(self.head_paths)

    @property
    def can_read_all(self) -> bool:
        return self.is_admin or self.is_auditor

    @property
    def can_see_people(self) -> bool:
        return self.can_read_all or self.is_head

    @property
    def names(self) -> list[str]:
        names: list[str] = []
        if self.employee_id is not None:
            names.append(Role.LEARNER)
        if self.is_head:
            names.append(Role.DEPARTMENT_HEAD)
        if self.is_admin:
            names.append(Role.TRAINING_ADMIN)
        if self.is_auditor:
            names.append(Role.AUDITOR)
        return names


NOBODY = Roles()


def roles_of(user: User | None) -> Roles:
    """The roles of a user, computed once per request and cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    cached: Roles | None = getattr(user, "_learntrace_roles", None)
    if cached is not None:
        return cached
    grants = list(RoleGrant.objects.filter(user=user).select_related("department"))
    employee_id = Employee.objects.filter(user=user, is_active=True).values_list("id", flat=True).first()
    roles = Roles(
        is_admin=user.is_superuser or any(g.role == Role.TRAINING_ADMIN for g in grants),
        is_auditor=any(g.role == Role.AUDITOR for g in grants),
        head_paths=tuple(sorted(
            g.department.path for g in grants
            if g.role == Role.DEPARTMENT_HEAD and g.department is not None and g.department.is_active
        )),
        employee_id=employee_id,
    )
    setattr(user, "_learntrace_roles", roles)  # noqa: B010 - a cache on the request's user object
    return roles


def subtree_q(paths: Iterable[str], path_field: str) -> Q:
    """Rows whose department path (`path_field`) lies under one of `paths`; none for no paths."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{path_field}__startswith": path})
    return condition


def visible_employees(user: User) -> QuerySet[Employee]:
    """Employees the user may read."""
    roles = roles_of(user)
    employees = Employee.objects.select_related("department")
    if roles.can_read_all:
        return employees
    condition = subtree_q(roles.head_paths, "department__path")
    if roles.employee_id is not None:
        condition |= Q(pk=roles.employee_id)
    return employees.filter(condition)


def visible_departments(user: User) -> QuerySet[Department]:
    roles = roles_of(user)
    if roles.can_read_all:
        return Department.objects.all()
    if roles.is_head:
        return Department.objects.filter(subtree_q(roles.head_paths, "path"))
    return Department.objects.none()


def access_employee(user: User, employee_id: int | str, *, write: bool = False) -> Employee:
    """Fetch an employee the user may read (or change, with write=True); 404 otherwise,
    so that the existence of other people's records is not revealed."""
    if write and not roles_of(user).is_admin:
        raise PermissionDenied
    try:
        employee: Employee = visible_employees(user).get(pk=employee_id)
        return employee
    except (Employee.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_department(user: User, department_id: int | str, *, write: bool = False) -> Department:
    if write and not roles_of(user).is_admin:
        raise PermissionDenied
    try:
        department: Department = visible_departments(user).get(pk=department_id)
        return department
    except (Department.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require(check: Callable[[Roles], bool]) -> Callable[[View], View]:
    """View decorator: `@require(lambda roles: roles.is_admin)`. Anonymous users go to
    the login page; logged-in users without the role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(roles_of(request.user)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def may_change(roles: Roles) -> bool:
    return roles.is_admin


def may_read_all(roles: Roles) -> bool:
    return roles.can_read_all


def may_see_people(roles: Roles) -> bool:
    return roles.can_see_people


# The same checks guard the pages (these decorators) and the API (api.v1.auth.need_*).
admin_required = require(may_change)
reader_required = require(may_read_all)
people_reader_required = require(may_see_people)


def login_required(view: View) -> View:
    """Any logged-in user (the role check, and its queries, are left to the view)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
