"""Pages of the credit rules: the rule sets by year (admins edit, auditors read), and a person's
year judged by its rules (the person, their heads, admins and auditors)."""

from django.contrib import messages
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.catalog.models import Category, CreditClass
from learntrace.core import months
from learntrace.core.numbers import whole_number
from learntrace.creditrules import presets, selectors, services
from learntrace.creditrules.forms import CapFormSet, LineFormSet, PresetForm, RuleSetForm
from learntrace.creditrules.models import CreditRuleSet, CreditSource
from learntrace.org.access import access_employee, admin_required, login_required, reader_required, roles_of


@reader_required
def rule_sets(request):
    form = PresetForm(request.POST or None, initial={"from_year": months.today().year})
    if request.method == "POST":
        if not roles_of(request.user).is_admin:
            raise Http404
        if form.is_valid():
            rule_set = presets.create_from_preset(actor=request.user, code=form.cleaned_data["preset"],
                                                  from_year=form.cleaned_data["from_year"])
            messages.success(request, _("Rule set created from the preset."))
            return redirect("creditrules:rule_set_edit", rule_set_id=rule_set.pk)
    sets = list(CreditRuleSet.objects.prefetch_related("lines__credit_class", "lines__category", "caps",
                                                       "professional_categories"))
    for rule_set, following in zip(sets, [None, *sets], strict=False):
        rule_set.until_year = following.from_year - 1 if following else None
    return render(request, "creditrules/rule_sets.html", {"rule_sets": sets, "form": form})


@admin_required
def rule_set_edit(request, rule_set_id=None):
    rule_set = get_object_or_404(CreditRuleSet, pk=rule_set_id) if rule_set_id else CreditRuleSet(
        created_by=request.user)
    data = request.POST or None
    form = RuleSetForm(data, instance=rule_set)
    lines = LineFormSet(data, instance=rule_set, prefix="lines")
    caps = CapFormSet(data, instance=rule_set, prefix="caps")
    if request.method == "POST" and form.is_valid() and lines.is_valid() and caps.is_valid():
        services.save_rule_set(actor=request.user, form=form, lines=lines, caps=caps)
        messages.success(request, _("Rule set saved."))
        return redirect("creditrules:rule_sets")
    return render(request, "creditrules/rule_set_form.html",
                  {"form": form, "lines": lines, "caps": caps, "rule_set": rule_set})


@require_POST
@admin_required
def rule_set_delete(request, rule_set_id):
    rule_set = get_object_or_404(CreditRuleSet, pk=rule_set_id)
    try:
        services.delete_rule_set(actor=request.user, rule_set=rule_set)
    except ProtectedError:
        messages.error(request, _("This rule set is in use and cannot be deleted."))
    else:
        messages.success(request, _("Rule set deleted."))
    return redirect("creditrules:rule_sets")


@login_required
def my_year(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    return redirect("creditrules:person_year", employee_id=employee_id, year=months.today().year)


@login_required
def person_year(request, employee_id, year):
    employee = access_employee(request.user, employee_id)
    if not 2000 <= year <= 2100:
        raise Http404
    rule_set = selectors.rule_set_for(year)
    judgement = selectors.judge_year([employee.pk], year, rule_set).get(employee.pk)
    classes = {c.pk: c for c in CreditClass.objects.all()}
    categories = {c.pk: c for c in Category.objects.all()}
    rows = []
    if judgement is not None:
        for judged in judgement.items:
            item = judged.item
            rows.append({"judged": judged, "credit_class": classes.get(item.credit_class_id),
                         "category": categories.get(item.category_id), "hours": item.seconds / 3600,
                         "outside_id": whole_number(item.key.partition(":")[2]) if item.key.startswith("outside:")
                         else None})
    return render(request, "creditrules/person_year.html", {
        "employee": employee, "year": year, "rule_set": rule_set, "judgement": judgement, "rows": rows,
        "sources": dict(CreditSource.choices),
        "hours": judgement.seconds / 3600 if judgement else 0,
        "min_hours": judgement.min_seconds / 3600 if judgement else 0,
        "professional_hours": judgement.professional_seconds / 3600 if judgement else 0,
    })
