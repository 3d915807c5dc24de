import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, Course, CreditClass
from learntrace.exams.models import Exam
from learntrace.org.models import Department, Employee, Level
from learntrace.plans.models import JoinerPolicy, LearningPlan, PeriodType, PlanCreditTarget

HOURS = {"min_value": Decimal("0"), "max_value": Decimal("10000"), "decimal_places": 2, "required": False}
HOUR_FIELDS = ["min_total_seconds", "min_video_seconds", "min_document_seconds", "min_offline_seconds",
               "min_live_seconds"]


def _split(text: str) -> list[str]:
    return sorted({part.strip() for part in re.split(r"[,，、\n]", text or "") if part.strip()})


def _department_label(department):
    return f"{'— ' * department.depth}{department.name} ({department.code})"


class PlanForm(forms.ModelForm):
    """The whole plan on one page. Hours are entered as hours and stored as seconds."""

    departments_with_subtree = forms.ModelMultipleChoiceField(
        label=_("departments, with their sub-departments"), queryset=Department.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    departments_only = forms.ModelMultipleChoiceField(
        label=_("departments, without their sub-departments"), queryset=Department.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    levels = forms.MultipleChoiceField(label=_("levels"), choices=Level.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    positions = forms.CharField(label=_("positions"), required=False, help_text=_("Separate with commas."))
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("Separate with commas."))
    named_people = forms.CharField(
        label=_("named people (employee numbers)"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Always in the audience, whatever the criteria above."),
    )
    required_courses = forms.ModelMultipleChoiceField(
        label=_("required courses"), queryset=Course.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    required_exams = forms.ModelMultipleChoiceField(
        label=_("required exams"), queryset=Exam.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Passed within the period (for a one-off plan: before its end)."),
    )
    min_total_hours = forms.DecimalField(label=_("minimum hours in total"), **HOURS)
    min_video_hours = forms.DecimalField(label=_("minimum hours of video"), **HOURS)
    min_document_hours = forms.DecimalField(label=_("minimum hours of documents"), **HOURS)
    min_offline_hours = forms.DecimalField(label=_("minimum hours of offline meetings"), **HOURS)
    min_live_hours = forms.DecimalField(label=_("minimum hours of live meetings"), **HOURS)

    class Meta:
        model = LearningPlan
        fields = ["name", "description", "period_type", "starts_on", "ends_on", "due_day", "counted_categories",
                  "follows_credit_rules", "requires_reflection", "reflection_min_chars", "joiner_policy",
                  "joiner_grace_days"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "counted_categories": forms.CheckboxSelectMultiple,
            "joiner_policy": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(is_active=True)
        for name in ("departments_with_subtree", "departments_only"):
            self.fields[name].queryset = departments
            self.fields[name].label_from_instance = _department_label
        self.fields["required_courses"].queryset = Course.objects.filter(is_published=True)
        self.fields["required_exams"].queryset = Exam.objects.filter(is_published=True)
        self.fields["counted_categories"].queryset = Category.objects.filter(is_active=True)
        # Left out (an older form, a script): the default policy, as for plans made before it existed.
        self.fields["joiner_policy"].required = False
        self.fields["joiner_grace_days"].required = False
        plan = self.instance
        for seconds_field in HOUR_FIELDS:
            value = getattr(plan, seconds_field) or 0
            self.initial[seconds_field.replace("seconds", "hours")] = Decimal(value) / 3600 if value else None
        if plan.pk:
            rules = list(plan.audience_departments.all())
            self.initial["departments_with_subtree"] = [r.department_id for r in rules if r.include_subtree]
            self.initial["departments_only"] = [r.department_id for r in rules if not r.include_subtree]
            self.initial["levels"] = plan.audience_levels
            self.initial["positions"] = ", ".join(plan.audience_positions)
            self.initial["tags"] = ", ".join(plan.audience_tags)
            self.initial["named_people"] = ", ".join(plan.audience_employees.values_list("employee_no", flat=True))
            self.initial["required_courses"] = [item.course_id for item in plan.items.all()]
            self.initial["required_exams"] = [item.exam_id for item in plan.exam_items.all()]

    def clean_joiner_policy(self):
        return self.cleaned_data.get("joiner_policy") or JoinerPolicy.NEXT_PERIOD

    def clean_joiner_grace_days(self):
        return self.cleaned_data.get("joiner_grace_days") or 0

    def clean_named_people(self):
        numbers = _split(self.cleaned_data["named_people"])
        people = list(Employee.objects.filter(employee_no__in=numbers, is_active=True))
        unknown = sorted(set(numbers) - {p.employee_no for p in people})
        if unknown:
            raise ValidationError(_("No active employee has the number(s): %(numbers)s.")
                                  % {"numbers": ", ".join(unknown)})
        return people

    def clean(self):
        cleaned = super().clean()
        period_type, starts_on, ends_on = cleaned.get("period_type"), cleaned.get("starts_on"), cleaned.get("ends_on")
        if period_type == PeriodType.ONE_OFF:
            if not ends_on:
                self.add_error("ends_on", _("A one-off plan needs an end date."))
            elif starts_on and ends_on < starts_on:
                self.add_error("ends_on", _("The end date is before the start date."))
        elif period_type and not cleaned.get("due_day"):
            self.add_error("due_day", _("A recurring plan needs a due day (1 to 31)."))
        both = set(cleaned.get("departments_with_subtree") or []) & set(cleaned.get("departments_only") or [])
        if both:
            self.add_error("departments_only", _("A department is chosen twice: keep it in one list only."))
        if cleaned.get("requires_reflection") is False and cleaned.get("reflection_min_chars"):
            cleaned["reflection_min_chars"] = 0
        if cleaned.get("joiner_policy") == JoinerPolicy.GRACE and not cleaned.get("joiner_grace_days"):
            self.add_error("joiner_grace_days", _("Give the number of grace days (1 to 366)."))
        for seconds_field in HOUR_FIELDS:
            hours = cleaned.get(seconds_field.replace("seconds", "hours"))
            setattr(self.instance, seconds_field, int((hours or 0) * 3600))
        return cleaned

    def audience(self) -> dict:
        data = self.cleaned_data
        return {
            "departments": [(d, True) for d in data["departments_with_subtree"]]
            + [(d, False) for d in data["departments_only"]],
            "levels": sorted(data["levels"]),
            "positions": _split(data["positions"]),
            "tags": _split(data["tags"]),
            "people": data["named_people"],
        }


class CreditTargetForm(forms.ModelForm):
    class Meta:
        model = PlanCreditTarget
        fields = ["credit_class", "category", "min_credits"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_class"].queryset = CreditClass.objects.filter(is_active=True)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["credit_class"].empty_label = _("any class")
        self.fields["category"].empty_label = _("any category")
        self.fields["min_credits"].required = False
        # The table's column headers are the only visible labels: screen readers get them here.
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("min_credits")
        if value is not None and value < 0:
            self.add_error("min_credits", _("Credits cannot be negative."))
        elif self.has_changed() and value is None and not cleaned.get("DELETE"):
            self.add_error("min_credits", _("Give the minimum number of credits per year."))
        return cleaned


CreditTargetFormSet = forms.inlineformset_factory(
    LearningPlan, PlanCreditTarget, form=CreditTargetForm, extra=2, can_delete=True, max_num=10,
)


class ReflectionForm(forms.Form):
    text = forms.CharField(label=_("reflection"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)


class ReviewForm(forms.Form):
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              max_length=5000)
