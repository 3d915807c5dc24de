"""Who may see a declaration and who may take its next step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from learntrace.declarations.models import Declaration
from learntrace.org.access import Roles, roles_of, subtree_q

if TYPE_CHECKING:
    from learntrace.org.access import User


def visible_declarations(user: User) -> QuerySet[Declaration]:
    """The person's own, their departments' (heads), every one (admins and auditors)."""
    roles = roles_of(user)
    declarations = Declaration.objects.select_related("employee__department", "credit_class", "category")
    if roles.can_read_all:
        return declarations
    condition = subtree_q(roles.head_paths, "employee__department__path")
    if roles.employee_id is not None:
        condition |= Q(employee_id=roles.employee_id)
    return declarations.filter(condition)


def access_declaration(user: User, declaration_id) -> Declaration:
    try:
        declaration: Declaration = visible_declarations(user).get(pk=declaration_id)
        return declaration
    except (Declaration.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def heads_over(roles: Roles, declaration: Declaration) -> bool:
    """Whether the user heads a department over the declarant (never their own declaration)."""
    path = declaration.employee.department.path
    return declaration.employee_id != roles.employee_id and any(path.startswith(head) for head in roles.head_paths)


def may_decide(roles: Roles, declaration: Declaration) -> bool:
    """Whether the user takes the declaration's current step: its head, then the education office."""
    if declaration.employee_id == roles.employee_id:
        return False
    if declaration.status == Declaration.Status.AWAITING_HEAD:
        return heads_over(roles, declaration)
    if declaration.status == Declaration.Status.AWAITING_OFFICE:
        return roles.is_admin
    return False


def awaiting(user: User) -> QuerySet[Declaration]:
    """The declarations waiting for this user's decision."""
    roles = roles_of(user)
    condition = Q(pk__in=[])
    if roles.is_head:
        condition |= Q(status=Declaration.Status.AWAITING_HEAD) & subtree_q(roles.head_paths,
                                                                            "employee__department__path")
    if roles.is_admin:
        condition |= Q(status=Declaration.Status.AWAITING_OFFICE)
    queryset = visible_declarations(user).filter(condition)
    if roles.employee_id is not None:
        queryset = queryset.exclude(employee_id=roles.employee_id)
    return queryset.order_by("submitted_at", "id")
