"""Pages of learning plans: managing plans, "my learning", a department's progress,
and reflections."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.core.feedback import show_errors
from learntrace.core.numbers import whole_number
from learntrace.core.paging import page_of
from learntrace.org.access import (
    access_employee,
    admin_required,
    login_required,
    people_reader_required,
    reader_required,
    roles_of,
    visible_departments,
    visible_employees,
)
from learntrace.org.models import Employee
from learntrace.plans import selectors, services
from learntrace.plans.access import access_assignment
from learntrace.plans.audience import audience
from learntrace.plans.forms import CreditTargetFormSet, PlanForm, ReflectionForm, ReviewForm
from learntrace.plans.models import LearningPlan, Reflection
from learntrace.plans.progress import progress_for


@reader_required
def plan_list(request):
    plans = LearningPlan.objects.annotate(period_count=Count("periods")).order_by("status", "name")
    return render(request, "plans/plan_list.html", {"plans": plans})


@admin_required
def plan_edit(request, plan_id=None):
    plan = get_object_or_404(LearningPlan, pk=plan_id) if plan_id else LearningPlan(created_by=request.user)
    form = PlanForm(request.POST or None, instance=plan)
    credit_targets = CreditTargetFormSet(request.POST or None, instance=plan, prefix="credits")
    if request.method == "POST" and form.is_valid() and credit_targets.is_valid():
        try:
            saved = services.save_plan(actor=request.user, form=form, credit_targets=credit_targets)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("plans:plan", plan_id=saved.pk)
    return render(request, "plans/plan_form.html", {"form": form, "credit_targets": credit_targets, "plan": plan})


@reader_required
def plan_detail(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    periods = plan.periods.annotate(
        people=Count("assignments", filter=Q(assignments__removed_at__isnull=True))
    ).order_by("-starts_at")[:24]
    return render(request, "plans/plan_detail.html", {
        "plan": plan, "periods": periods, "audience_size": audience(plan).count(),
        "items": plan.items.select_related("course"),
        "credit_targets": plan.credit_targets.select_related("credit_class", "category"),
        "departments": plan.audience_departments.select_related("department"),
    })


@require_POST
@admin_required
def plan_publish(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    try:
        services.publish_plan(actor=request.user, plan=plan)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Published: the current period is open for its audience."))
    return redirect("plans:plan", plan_id=plan.pk)


@require_POST
@admin_required
def plan_archive(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    services.archive_plan(actor=request.user, plan=plan)
    messages.success(request, _("Archived: no new periods will open."))
    return redirect("plans:plan", plan_id=plan.pk)


def _learning_page(request, employee, *, own: bool):
    progress = progress_for(selectors.current_assignments(employee))
    return render(request, "plans/my_learning.html", {
        "person": employee, "own": own, "progress": progress,
        "credits": selectors.credits_this_year(employee), "now": timezone.now(),
    })


@login_required
def my_learning(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        return render(request, "plans/no_learning.html")
    return _learning_page(request, Employee.objects.select_related("department").get(pk=employee_id), own=True)


@people_reader_required
def person_learning(request, employee_id):
    employee = access_employee(request.user, employee_id)
    return _learning_page(request, employee, own=employee.pk == roles_of(request.user).employee_id)


@login_required
def history(request, employee_id=None):
    roles = roles_of(request.user)
    if employee_id is None:
        if roles.employee_id is None:
            return render(request, "plans/no_learning.html")
        employee_id = roles.employee_id
    employee = access_employee(request.user, employee_id)
    # Past periods as they were counted and judged (frozen at close): the stored standings.
    page = Paginator(selectors.past_assignments(employee).select_related("standing"), 24).get_page(
        request.GET.get("page"))
    return render(request, "plans/history.html", {"person": employee, "page": page})


@login_required
def assignment_detail(request, assignment_id):
    assignment = access_assignment(request.user, assignment_id)
    own = assignment.employee_id == roles_of(request.user).employee_id
    progress = progress_for([assignment])[0]
    reflection = Reflection.objects.filter(assignment=assignment).first()
    form = ReflectionForm(initial={"text": reflection.text if reflection else ""})
    return render(request, "plans/assignment_detail.html", {
        "assignment": assignment, "p": progress, "own": own, "reflection": reflection, "form": form,
        "now": timezone.now(),
    })


@require_POST
@login_required
def reflection_save(request, assignment_id):
    assignment = access_assignment(request.user, assignment_id, own=True)
    form = ReflectionForm(request.POST)
    if form.is_valid():
        submit = "submit" in request.POST
        try:
            services.reflection_save(assignment=assignment, text=form.cleaned_data["text"], submit=submit)
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Reflection submitted.") if submit else _("Draft saved."))
    else:
        messages.error(request, _("Write something first."))
    return redirect("plans:assignment", assignment_id=assignment.pk)


@people_reader_required
def team(request):
    departments = visible_departments(request.user)
    plan_id, department_id = request.GET.get("plan", ""), request.GET.get("department", "")
    assignments = selectors.current_assignments_of(visible_employees(request.user))
    plans = LearningPlan.objects.filter(status=LearningPlan.Status.PUBLISHED)
    if (plan_number := whole_number(plan_id)) is not None:
        assignments = assignments.filter(period__plan_id=plan_number)
    department = departments.filter(pk=department_number).first() if (
        department_number := whole_number(department_id)) is not None else None
    if department is not None:
        assignments = assignments.filter(employee__department__path__startswith=department.path)
    # A list reads the stored figures; an assignment the worker has not counted yet has no standing.
    page, query = page_of(request, assignments.select_related("standing"))
    return render(request, "plans/team.html", {
        "page": page, "plans": plans,
        "departments": departments, "plan_id": plan_id, "department_id": department_id, "query": query,
    })


@admin_required
def reflection_queue(request):
    status = request.GET.get("status", Reflection.Status.SUBMITTED)
    reflections = Reflection.objects.select_related("assignment__employee__department", "assignment__period__plan")
    if status in Reflection.Status.values:
        reflections = reflections.filter(status=status)
    page = Paginator(reflections.order_by("submitted_at", "pk"), 30).get_page(request.GET.get("page"))
    return render(request, "plans/reflections.html", {
        "page": page, "status": status, "statuses": Reflection.Status.choices, "form": ReviewForm(),
        "query": f"status={status}",
    })


@require_POST
@admin_required
def reflection_review(request, reflection_id):
    reflection = get_object_or_404(Reflection, pk=reflection_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.reflection_review(actor=request.user, reflection=reflection, accept="accept" in request.POST,
                                       comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Review saved."))
    return redirect("plans:reflections")

