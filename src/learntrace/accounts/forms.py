"""Forms of signing in: asking for a reset link, sending activation links, filtering the sign-in log."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from learntrace.accounts.models import Method, SignInEvent

CHANNEL_CHOICES = 4  # how many channels an admin may put in order


class ForgotPasswordForm(forms.Form):
    identifier = forms.CharField(label=_("Employee number or e-mail"), max_length=200,
                                 widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))


class SendLinksForm(forms.Form):
    """The channels to try for each person, in order: the first one that reaches them is used."""

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, CHANNEL_CHOICES + 1):
            self.fields[f"channel_{number}"] = forms.ModelChoiceField(
                queryset=channels, required=number == 1,
                label=_("First try") if number == 1 else _("Then"),
                empty_label=None if number == 1 else "—")

    def ordered_channels(self) -> list:
        chosen = []
        for number in range(1, CHANNEL_CHOICES + 1):
            channel = self.cleaned_data.get(f"channel_{number}")
            if channel is not None and channel not in chosen:
                chosen.append(channel)
        return chosen


class SignInLogFilterForm(forms.Form):
    method = forms.ChoiceField(label=_("method"), required=False, choices=[("", _("all"))] + Method.choices)
    outcome = forms.ChoiceField(label=_("outcome"), required=False,
                                choices=[("", _("all"))] + SignInEvent.Outcome.choices)
    date_from = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(_("The first day is after the last day."))
        return data
