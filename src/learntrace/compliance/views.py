"""Pages of compliance: rules on a plan, and each period's outcome for payroll and performance."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.compliance import selectors, services
from learntrace.compliance.forms import ConsequenceForm, ReopenForm, RuleForm
from learntrace.compliance.models import Consequence, PeriodState, Rule
from learntrace.core.audit import delete_with_audit, save_with_audit
from learntrace.core.feedback import show_errors
from learntrace.core.numbers import whole_number
from learntrace.core.paging import page_of
from learntrace.core.spreadsheets import XLSX_TYPE, csv_lines, xlsx_bytes
from learntrace.org.access import admin_required, people_reader_required, roles_of, visible_departments
from learntrace.plans.models import LearningPlan, PlanPeriod
from learntrace.plans.templatetags.plans import period_label


@admin_required
def rules(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    plan_rules = list(plan.compliance_rules.prefetch_related("consequences"))
    for rule in plan_rules:
        rule.consequence_form = ConsequenceForm(prefix=f"rule{rule.pk}")
    return render(request, "compliance/rules.html", {"plan": plan, "rules": plan_rules})


@admin_required
def rule_edit(request, plan_id, rule_id=None):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    rule = get_object_or_404(Rule, pk=rule_id, plan=plan) if rule_id else Rule(plan=plan)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        save_with_audit(actor=request.user, form=form, summary=lambda saved: f"{plan}: {saved}")
        messages.success(request, _("Rule saved."))
        return redirect("compliance:rules", plan_id=plan.pk)
    return render(request, "compliance/rule_form.html", {"form": form, "plan": plan, "rule": rule})


@require_POST
@admin_required
def rule_delete(request, rule_id):
    rule = get_object_or_404(Rule, pk=rule_id)
    delete_with_audit(actor=request.user, obj=rule, summary=f"{rule.plan}: {rule}")
    messages.success(request, _("Rule deleted."))
    return redirect("compliance:rules", plan_id=rule.plan_id)


@require_POST
@admin_required
def consequence_add(request, rule_id):
    rule = get_object_or_404(Rule, pk=rule_id)
    form = ConsequenceForm(request.POST, instance=Consequence(rule=rule), prefix=f"rule{rule.pk}")
    if form.is_valid():
        save_with_audit(actor=request.user, form=form, summary=lambda saved: f"{rule}: {saved}")
        messages.success(request, _("Consequence added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for message in errors:
                messages.error(request, f"{label}: {message}" if label else message)
    return redirect("compliance:rules", plan_id=rule.plan_id)


@require_POST
@admin_required
def consequence_delete(request, consequence_id):
    consequence = get_object_or_404(Consequence.objects.select_related("rule"), pk=consequence_id)
    delete_with_audit(actor=request.user, obj=consequence, summary=f"{consequence.rule}: {consequence}")
    return redirect("compliance:rules", plan_id=consequence.rule.plan_id)


def _chosen(request):
    """The plan, period, department and status asked for, limited to what the user may read."""
    plans = LearningPlan.objects.exclude(status=LearningPlan.Status.DRAFT).order_by("name")
    plan_id, period_id = request.GET.get("plan", ""), request.GET.get("period", "")
    plan = plans.filter(pk=plan_number).first() if (
        plan_number := whole_number(plan_id)) is not None else plans.first()
    periods = PlanPeriod.objects.filter(plan=plan).select_related("plan").order_by("-starts_at") if plan else []
    period = None
    if plan is not None:
        period = periods.filter(pk=period_number).first() if (
            period_number := whole_number(period_id)) is not None else None
        period = period or periods.filter(due_at__lte=timezone.now()).first() or periods.first()
    departments = visible_departments(request.user)
    department_id = request.GET.get("department", "")
    department = departments.filter(pk=department_number).first() if (
        department_number := whole_number(department_id)) is not None else None
    status = request.GET.get("status", "")
    status = status if status in selectors.STATUSES else ""
    return {"plans": plans, "plan": plan, "periods": periods, "period": period, "departments": departments,
            "department": department, "status": status}


@people_reader_required
def outcomes(request):
    chosen = _chosen(request)
    context = dict(chosen, is_admin=roles_of(request.user).is_admin, reopen_form=ReopenForm())
    period = chosen["period"]
    if period is not None:
        standings = selectors.standings_for(request.user, period, department=chosen["department"],
                                            status=chosen["status"])
        page, query = page_of(request, standings)
        context.update(
            page=page, query=query,
            totals=selectors.summary(standings),
            department_outcomes=selectors.department_outcomes_for(request.user, period),
            state=PeriodState.objects.filter(period=period).first(),
            closed=period.ends_at <= timezone.now(),
        )
    return render(request, "compliance/outcomes.html", context)


@people_reader_required
def outcomes_export(request, file_format):
    chosen = _chosen(request)
    period = chosen["period"]
    if period is None:
        messages.error(request, _("There is no period to export."))
        return redirect("compliance:outcomes")
    standings = selectors.standings_for(request.user, period, department=chosen["department"],
                                        status=chosen["status"])
    label = period_label(period)
    rows = selectors.export_rows(standings, label)
    filename = f"compliance-{period.plan_id}-{timezone.localtime(period.starts_at):%Y%m%d}"
    if file_format == "csv":
        response = StreamingHttpResponse(csv_lines(selectors.export_headers(), rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    response = HttpResponse(xlsx_bytes(selectors.export_headers(), rows, sheet_name=_("Compliance")),
                            content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _back_to(period):
    return redirect(f"{reverse('compliance:outcomes')}?plan={period.plan_id}&period={period.pk}")


@require_POST
@admin_required
def evaluate(request, period_id):
    period = get_object_or_404(PlanPeriod, pk=period_id)
    if services.is_frozen(period):
        messages.error(request, _("This period is frozen: reopen it first."))
        return _back_to(period)
    services.refresh_period(period)
    if period.due_at <= timezone.now():
        services.evaluate_period(period)
        messages.success(request, _("Figures refreshed and everyone judged again."))
    else:
        messages.success(request, _("Figures refreshed. People are judged from the due day on."))
    return _back_to(period)


@require_POST
@admin_required
def freeze(request, period_id):
    period = get_object_or_404(PlanPeriod, pk=period_id)
    try:
        services.freeze_period(period, actor=request.user)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Period frozen: later records no longer change its outcome."))
    return _back_to(period)


@require_POST
@admin_required
def reopen(request, period_id):
    period = get_object_or_404(PlanPeriod, pk=period_id)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the period is reopened."))
        return _back_to(period)
    try:
        services.reopen_period(period, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Period reopened. Freeze it again when the records are right."))
    return _back_to(period)
