"""The filters every report page and export reads from its query string."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course
from learntrace.org.access import visible_departments
from learntrace.org.models import Department, Level
from learntrace.plans.models import LearningPlan
from learntrace.reports import selectors

ALL_MONTHS = "all"


class ReportFilterForm(forms.Form):
    plan = forms.ModelChoiceField(LearningPlan.objects.exclude(status=LearningPlan.Status.DRAFT), required=False,
                                  label=_("plan"), empty_label=_("all plans"))
    period = forms.ChoiceField(label=_("period"), required=False)
    department = forms.ModelChoiceField(Department.objects.none(), required=False, label=_("department"),
                                        empty_label=_("all departments"))
    level = forms.ChoiceField(label=_("level"), required=False,
                              choices=[("", _("all levels")), *Level.choices])
    course = forms.ModelChoiceField(Course.objects.filter(kind__in=selectors.TRACKED_KINDS), required=False,
                                    label=_("course"), empty_label=_("all courses"))
    status = forms.ChoiceField(label=_("status"), required=False, choices=[
        ("", _("everyone")), (selectors.COMPLETE, _("complete")), (selectors.INCOMPLETE, _("not complete")),
        (selectors.COMPLIANT, _("compliant")), (selectors.NON_COMPLIANT, _("not compliant")),
    ])

    def __init__(self, data, *, user, **kwargs):
        self.months = selectors.report_months()
        self.default_month = selectors.current_month(self.months)
        data = data.copy()
        if not data.get("period"):
            # "Now": the current month's periods, unless the reader asks for another or for all.
            data["period"] = f"{self.default_month:%Y-%m}" if self.default_month else ALL_MONTHS
        super().__init__(data, **kwargs)
        # Only the reader's own departments can be chosen: another subtree's id is refused.
        self.fields["department"].queryset = visible_departments(user)
        self.fields["department"].error_messages["invalid_choice"] = _(
            "This department is not one you may read.")
        self.fields["period"].choices = [(ALL_MONTHS, _("all periods"))] + [
            (f"{month:%Y-%m}", f"{month:%Y-%m}") for month in self.months]

    def clean_period(self) -> dt.date | None:
        value = self.cleaned_data.get("period")
        if not value or value == ALL_MONTHS:
            return None
        return dt.date(int(value[:4]), int(value[5:7]), 1)

    def filters(self) -> selectors.Filters:
        """The validated filters; call only when the form is valid."""
        data = self.cleaned_data
        return selectors.Filters(plan=data["plan"], month=data["period"], department=data["department"],
                                 level=data["level"], course=data["course"], status=data["status"])

    def query(self) -> dict:
        """The filters as query-string values, to keep them in links (exports, pages)."""
        return {name: self.data[name] for name in self.fields if self.data.get(name)}
