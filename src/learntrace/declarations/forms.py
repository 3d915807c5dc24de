from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, CreditClass
from learntrace.declarations.models import Declaration
from learntrace.declarations.services import FIELDS, certificate_type


class DeclarationForm(forms.ModelForm):
    certificate = forms.FileField(
        label=_("certificate"), required=True,
        help_text=_("A photo (JPEG or PNG) or a PDF of the certificate, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}))

    class Meta:
        model = Declaration
        fields = FIELDS
        widgets = {"started_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "ended_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, correcting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_class"].queryset = CreditClass.objects.filter(is_active=True)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        if correcting:  # the scan already sent stays unless a new one is chosen
            self.fields["certificate"].required = False
            self.fields["certificate"].help_text = _("Choose a new file only to replace the certificate sent.")

    def clean_certificate(self):
        upload = self.cleaned_data.get("certificate")
        if upload:
            certificate_type(upload)  # a ValidationError shows on the field
        return upload

    def clean(self):
        cleaned = super().clean()
        started, ended = cleaned.get("started_on"), cleaned.get("ended_on")
        if started and ended and ended < started:
            self.add_error("ended_on", _("The end date is before the start date."))
        return cleaned


class BulkEntryForm(DeclarationForm):
    attendees = forms.CharField(label=_("attendees' employee numbers"), widget=forms.Textarea(attrs={"rows": 5}),
                                help_text=_("One per line, or separated by commas or spaces."))

    class Meta(DeclarationForm.Meta):
        fields = ["attendees", *FIELDS]


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
