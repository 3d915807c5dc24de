from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.compliance.models import Consequence, Rule


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["name", "window", "counts_hours", "counts_courses", "counts_credits", "counts_reflection",
                  "reflection_must_be_accepted", "counts_quizzes", "is_active"]

    def clean(self):
        cleaned = super().clean()
        counts = [cleaned.get(f) for f in ("counts_hours", "counts_courses", "counts_credits", "counts_reflection",
                                            "counts_quizzes")]
        if not any(counts):
            raise forms.ValidationError(_("Choose at least one target the rule counts."))
        return cleaned


class ConsequenceForm(forms.ModelForm):
    class Meta:
        model = Consequence
        fields = ["applies_to", "kind", "name", "value", "level", "department_share", "top_n"]

    def clean(self):
        cleaned = super().clean()
        applies, kind, level = cleaned.get("applies_to"), cleaned.get("kind"), cleaned.get("level")
        value = cleaned.get("value")
        if applies == Consequence.AppliesTo.TOP and not cleaned.get("top_n"):
            self.add_error("top_n", _("Say how many of the top learners."))
        if applies != Consequence.AppliesTo.TOP:
            cleaned["top_n"] = None
        if level == Consequence.Level.DEPARTMENT:
            if applies in (Consequence.AppliesTo.TOP, Consequence.AppliesTo.ABOVE_TARGET):
                self.add_error("applies_to", _("A department consequence applies to those who comply or not."))
            if kind == Consequence.Kind.TITLE:
                self.add_error("kind", _("Recognition titles are for people, not departments."))
        share = cleaned.get("department_share")
        if share is not None and share > 100:
            self.add_error("department_share", _("A share is at most 100 %."))
        if kind in (Consequence.Kind.PERCENT, Consequence.Kind.SCORE) and not value:
            self.add_error("value", _("Give the percentage or the points (negative for a cut)."))
        if kind == Consequence.Kind.PERCENT and value is not None and not -100 <= value <= 100:
            self.add_error("value", _("A percentage adjustment is between -100 and 100."))
        return cleaned


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
