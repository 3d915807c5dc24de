"""Who a plan is for. Evaluated on every sync, so that a new hire, a promotion or a
move into the department joins the plan by itself, and someone who left drops out."""

from django.db.models import Q

from learntrace.org.models import Employee


def audience_condition(plan) -> Q | None:
    """Every kind of criterion given must match (any value within a kind); named people always match.
    None when the plan has no audience at all."""
    criteria = []
    departments = Q(pk__in=[])
    plan_departments = list(plan.audience_departments.select_related("department"))
    for rule in plan_departments:
        if rule.include_subtree:
            departments |= Q(department__path__startswith=rule.department.path)
        else:
            departments |= Q(department_id=rule.department_id)
    if plan_departments:
        criteria.append(departments)
    if plan.audience_levels:
        criteria.append(Q(level__in=plan.audience_levels))
    if plan.audience_positions:
        criteria.append(Q(position__in=plan.audience_positions))
    if plan.audience_tags:
        tags = Q(pk__in=[])
        for tag in plan.audience_tags:
            tags |= Q(tags__contains=f",{tag},")
        criteria.append(tags)
    named = list(plan.audience_employees.values_list("pk", flat=True))
    if not criteria and not named:
        return None
    condition = Q(pk__in=named)
    if criteria:
        matching = Q()
        for criterion in criteria:
            matching &= criterion
        condition |= matching
    return condition


def audience(plan):
    """Active employees the plan is for (none if it has no audience)."""
    condition = audience_condition(plan)
    if condition is None:
        return Employee.objects.none()
    return Employee.objects.filter(condition, is_active=True)
