from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.certificates.models import CertificateKind
from learntrace.exams.models import Exam
from learntrace.notify.models import Channel
from learntrace.plans.models import LearningPlan


class CertificateKindForm(forms.ModelForm):
    remind_days = forms.CharField(label=_("remind days before expiry"), required=False,
                                  help_text=_("Numbers separated by commas, e.g. 60, 30, 7."))

    class Meta:
        model = CertificateKind
        fields = ["title", "exam", "plan", "valid_months", "remind_heads", "channels", "is_active"]
        widgets = {"channels": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exam"].queryset = Exam.objects.all()
        self.fields["plan"].queryset = LearningPlan.objects.exclude(status=LearningPlan.Status.ARCHIVED)
        self.fields["channels"].queryset = Channel.objects.filter(is_active=True)
        self.fields["remind_days"].initial = ", ".join(str(d) for d in self.instance.remind_days_before)

    def clean_remind_days(self):
        days = set()
        for part in self.cleaned_data["remind_days"].replace("，", ",").split(","):
            if not part.strip():
                continue
            if not part.strip().isdigit() or not 1 <= int(part) <= 365:
                raise forms.ValidationError(_("Give whole numbers of days from 1 to 365, separated by commas."))
            days.add(int(part))
        return sorted(days, reverse=True)

    def clean(self):
        data = super().clean()
        if bool(data.get("exam")) == bool(data.get("plan")):
            raise forms.ValidationError(_("Choose either an exam or a plan."))
        if data.get("remind_days") and not data.get("valid_months"):
            self.add_error("remind_days", _("A certificate that does not expire needs no reminders."))
        self.instance.remind_days_before = data.get("remind_days") or []
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Shown on the public verification page and kept in the evidence."))
