"""The filters every report page and export reads from its query string."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course
from learntrace.org.access import visible_departments
from learntrace.org.models import Department, Level
from learntrace.plans.models import LearningPlan
from learntrace.reports import selectors

ALL_MONTHS = "all"
# A rolling range, where course analytics open: a calendar month is often too short to hold any viewing.
RECENT_DAYS = 90
RECENT = f"last{RECENT_DAYS}"


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

    def __init__(self, data, *, user, default_period: str = "", **kwargs):
        self.months = selectors.report_months()
        self.default_month = selectors.current_month(self.months)
        data = data.copy()
        if not data.get("period"):
            # "Now": the current month's periods, unless the page or the reader asks for another range.
            data["period"] = default_period or (f"{self.default_month:%Y-%m}" if self.default_month else ALL_MONTHS)
        super().__init__(data, **kwargs)
        # Only the reader's own departments can be chosen: another subtree's id is refused.
        self.fields["department"].queryset = visible_departments(user)
        self.fields["department"].error_messages["invalid_choice"] = _(
            "This department is not one you may read.")
        self.fields["period"].choices = [(ALL_MONTHS, _("all periods")), (RECENT, _("last 90 days"))] + [
            (f"{month:%Y-%m}", f"{month:%Y-%m}") for month in self.months]

    def filters(self, *, now: dt.datetime | None = None) -> selectors.Filters:
        """The validated filters; call only when the form is valid."""
        data = self.cleaned_data
        period = data.get("period") or ALL_MONTHS
        month = since = None
        if period == RECENT:
            since = (now or timezone.now()) - dt.timedelta(days=RECENT_DAYS)
        elif period != ALL_MONTHS:
            month = dt.date(int(period[:4]), int(period[5:7]), 1)
        return selectors.Filters(plan=data["plan"], month=month, since=since, department=data["department"],
                                 level=data["level"], course=data["course"], status=data["status"])

    def query(self) -> dict:
        """The filters as query-string values, to keep them in links (exports, pages)."""
        return {name: self.data[name] for name in self.fields if self.data.get(name)}
