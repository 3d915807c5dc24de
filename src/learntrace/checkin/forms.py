from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.checkin.models import Meeting
from learntrace.core.numbers import FULL_WIDTH_DIGITS, ascii_digits, whole_number
from learntrace.org.models import Employee


class MeetingForm(forms.ModelForm):
    """A meeting, and the course it counts for: an existing offline or live course, or a new one
    created with the meeting in the same submit (see checkin.scheduling)."""

    EXISTING, NEW = "existing", "new"
    course_source = forms.ChoiceField(
        label=_("course"), required=False, widget=forms.RadioSelect,
        choices=[(EXISTING, _("An existing course")), (NEW, _("A new course for this meeting"))])
    new_course_title = forms.CharField(label=_("title of the new course"), max_length=200, required=False,
                                       help_text=_("Empty: the meeting's title."))
    new_course_kind = forms.ChoiceField(label=_("kind of the new course"), required=False, initial=CourseKind.OFFLINE,
                                        choices=[(CourseKind.OFFLINE, CourseKind.OFFLINE.label),
                                                 (CourseKind.LIVE, CourseKind.LIVE.label)])
    new_course_category = forms.ModelChoiceField(label=_("category of the new course"), required=False,
                                                 queryset=Category.objects.filter(is_active=True))
    new_course_credits = forms.DecimalField(label=_("credits of the new course"), required=False,
                                            min_value=Decimal("0"), max_digits=6, decimal_places=2,
                                            initial=Decimal("0"))
    new_course_credit_class = forms.ModelChoiceField(label=_("credit class of the new course"), required=False,
                                                     queryset=CreditClass.objects.filter(is_active=True))
    NEW_COURSE_FIELDS = ["new_course_title", "new_course_kind", "new_course_category", "new_course_credits",
                         "new_course_credit_class"]

    people = forms.CharField(label=_("named people (employee numbers)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    organiser_numbers = forms.CharField(label=_("organisers (employee numbers)"), required=False)

    class Meta:
        model = Meeting
        fields = ["course", "title", "starts_at", "ends_at", "location", "latitude", "longitude", "radius_m",
                  "allowed_networks", "roster", "roster_plan", "opens_minutes_before", "closes_minutes_after",
                  "late_after_minutes", "checkout_required", "credit", "signature_required", "rotation_seconds"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "allowed_networks": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(kind__in=[CourseKind.OFFLINE, CourseKind.LIVE])
        for name in ("course_source", "people", "organiser_numbers", *self.NEW_COURSE_FIELDS):
            # Declared here, so not capitalised as the model's labels are.
            self.fields[name].label = capfirst(self.fields[name].label)
        self.fields["course"].required = False  # required when an existing course is chosen (clean)
        # A new meeting starts with a new course (one step); an edited one keeps its course.
        self.initial.setdefault("course_source", self.EXISTING if self.instance.pk else self.NEW)
        if self.instance.pk:
            self.initial["people"] = ", ".join(self.instance.roster_people.values_list("employee_no", flat=True))
            self.initial["organiser_numbers"] = ", ".join(
                self.instance.organisers.values_list("employee_no", flat=True))

    def _people(self, field):
        numbers = sorted({n.strip() for n in self.cleaned_data[field].replace("，", ",").replace("\n", ",").split(",")
                          if n.strip()})
        people = list(Employee.objects.filter(employee_no__in=numbers, is_active=True))
        unknown = sorted(set(numbers) - {p.employee_no for p in people})
        if unknown:
            raise forms.ValidationError(_("No active employee has the number(s): %(numbers)s.")
                                        % {"numbers": ", ".join(unknown)})
        return people

    def _save_m2m(self):
        # The roster and the organisers are typed as employee numbers, not picked: saved here,
        # with the form's other relations, so that saving the form saves all of it.
        super()._save_m2m()
        self.instance.roster_people.set(self.cleaned_data["people"])
        self.instance.organisers.set(self.cleaned_data["organiser_numbers"])

    def clean_people(self):
        return self._people("people")

    def clean_organiser_numbers(self):
        return self._people("organiser_numbers")

    def clean_allowed_networks(self):
        import ipaddress

        text = self.cleaned_data["allowed_networks"]
        for line in text.replace(",", "\n").splitlines():
            if line.strip():
                try:
                    ipaddress.ip_network(line.strip(), strict=False)
                except ValueError:
                    raise forms.ValidationError(_("“%(value)s” is not an IP range such as 10.8.0.0/16.")
                                                % {"value": line.strip()}) from None
        return text

    def meeting_fields(self):
        """Every field but the course's, in the order of Meta.fields."""
        course_fields = {"course", "course_source", *self.NEW_COURSE_FIELDS}
        return [field for field in self if field.name not in course_fields]

    def _clean_course(self, cleaned) -> None:
        # A form sent without the choice (an older page, a script) names an existing course.
        source = cleaned.get("course_source") or self.EXISTING
        cleaned["course_source"] = source
        if source == self.EXISTING:
            if not cleaned.get("course"):
                self.add_error("course", _("Choose the course this meeting counts for, or create a new one."))
            return
        cleaned["course"] = None
        if not cleaned.get("new_course_category"):
            self.add_error("new_course_category", _("Choose the category of the new course."))
        if not cleaned.get("new_course_kind"):
            cleaned["new_course_kind"] = CourseKind.OFFLINE
        if cleaned.get("new_course_credits") is None:
            cleaned["new_course_credits"] = Decimal("0")
        if cleaned["new_course_credits"] and not cleaned.get("new_course_credit_class"):
            self.add_error("new_course_credit_class", _("Say which class of credits the course awards."))

    def clean(self):
        cleaned = super().clean()
        self._clean_course(cleaned)
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The meeting must end after it starts."))
        geo = [cleaned.get("latitude"), cleaned.get("longitude"), cleaned.get("radius_m")]
        if any(v is not None for v in geo) and not all(v is not None for v in geo):
            self.add_error("radius_m", _("A geofence needs a latitude, a longitude and a radius."))
        if cleaned.get("roster") == Meeting.Roster.PLAN and not cleaned.get("roster_plan"):
            self.add_error("roster_plan", _("Choose the plan whose audience is expected."))
        if cleaned.get("roster") == Meeting.Roster.PEOPLE and not cleaned.get("people"):
            self.add_error("people", _("Name at least one person."))
        if cleaned.get("credit") == Meeting.Credit.OVERLAP and not cleaned.get("checkout_required"):
            self.add_error("credit", _("Crediting the time between check-in and check-out needs check-out."))
        return cleaned


class ManualForm(forms.Form):
    employee_no = forms.CharField(label=_("employee number"), max_length=64)
    kind = forms.ChoiceField(label=_("entry"), choices=[
        ("manual_in", _("Check in")), ("manual_out", _("Check out")), ("excused", _("Excuse"))])
    reason = forms.CharField(label=_("reason"), max_length=300)

    def clean_employee_no(self):
        number = self.cleaned_data["employee_no"].strip()
        employee = Employee.objects.filter(employee_no=number, is_active=True).first()
        if employee is None:
            raise forms.ValidationError(_("No active employee has this number."))
        return employee


class CodeForm(forms.Form):
    meeting = forms.CharField(label=_("meeting number"), max_length=18)
    code = forms.CharField(label=_("six-digit code"), max_length=32)

    # A phone's Chinese keyboard may send full-width digits; they are read as the digits they show.
    # Any other script's digits are refused: the code on the screen is 0-9.
    def clean_meeting(self):
        number = whole_number(self.cleaned_data["meeting"].strip().translate(FULL_WIDTH_DIGITS))
        if not number:
            raise forms.ValidationError(_("The meeting number is a whole number, such as 12."))
        return number

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].translate(FULL_WIDTH_DIGITS).split())
        if not ascii_digits(code) or len(code) != 6:
            raise forms.ValidationError(_("The code has six digits."))
        return code
