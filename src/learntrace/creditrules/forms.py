from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, CreditClass
from learntrace.creditrules.models import CreditRuleCap, CreditRuleLine, CreditRuleSet
from learntrace.creditrules.presets import preset_choices


class RuleSetForm(forms.ModelForm):
    class Meta:
        model = CreditRuleSet
        fields = ["from_year", "name", "basis", "min_credits", "min_hours", "hours_per_credit",
                  "max_credits_per_project", "professional_categories", "professional_min_share"]
        widgets = {"professional_categories": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["professional_categories"].queryset = Category.objects.filter(is_active=True)


class LineForm(forms.ModelForm):
    class Meta:
        model = CreditRuleLine
        fields = ["credit_class", "category", "min_credits", "max_credits"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_class"].queryset = CreditClass.objects.filter(is_active=True)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["credit_class"].empty_label = _("any class")
        self.fields["category"].empty_label = _("any category")


LineFormSet = forms.inlineformset_factory(CreditRuleSet, CreditRuleLine, form=LineForm, extra=2, can_delete=True)
class BaseCapFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """One cap per source, counting the caps already saved that this form does not show."""
        super().clean()
        shown = {form.instance.pk for form in self.forms if form.instance.pk}
        sources = []
        if self.instance.pk:
            sources += list(self.instance.caps.exclude(pk__in=shown).values_list("source", flat=True))
        for form in self.forms:
            if form.has_changed() or form.instance.pk:
                if not self._should_delete_form(form) and form.cleaned_data.get("source"):
                    sources.append(form.cleaned_data["source"])
        if len(sources) != len(set(sources)):
            raise forms.ValidationError(_("Give each source one cap only."))


CapFormSet = forms.inlineformset_factory(CreditRuleSet, CreditRuleCap, formset=BaseCapFormSet,
                                         fields=["source", "max_credits"], extra=1, can_delete=True)


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label=_("preset"), choices=preset_choices)
    from_year = forms.IntegerField(label=_("in force from year"), min_value=2000, max_value=2100)

    def clean_from_year(self):
        year = self.cleaned_data["from_year"]
        if CreditRuleSet.objects.filter(from_year=year).exists():
            raise forms.ValidationError(_("A rule set for %(year)d exists already: edit it instead.") % {"year": year})
        return year
