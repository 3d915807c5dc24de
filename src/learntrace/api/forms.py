"""Forms of the API pages: tokens, learning record stores, the continuing-education export."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.api.models import RecordStore, Scope
from learntrace.api.tokens import MAX_EXPIRY_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "name"), max_length=100,
                           help_text=_("What will use it, e.g. “payroll” or “badge reader, hall 2”."))
    username = forms.CharField(label=_("acts as (user name)"), max_length=150,
                               help_text=_("The token sees and may do what this user may."))
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    expires_days = forms.IntegerField(label=_("expires after (days)"), min_value=1, max_value=MAX_EXPIRY_DAYS,
                                      initial=90)

    def clean_username(self):
        user = get_user_model().objects.filter(username=self.cleaned_data["username"], is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user has this user name."))
        return user


class StoreForm(forms.ModelForm):
    endpoint = forms.URLField(label=_("endpoint"), assume_scheme="https", max_length=200,
                              help_text=_("The LRS's xAPI base URL; statements are sent to <endpoint>/statements."))
    password = forms.CharField(label=_("password (Basic auth)"), required=False, widget=forms.PasswordInput,
                               help_text=_("Stored encrypted. Leave empty to keep the current one."))

    class Meta:
        model = RecordStore
        fields = ["name", "endpoint", "username", "password", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._current_password = self.instance.password if self.instance.pk else ""

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        if not endpoint.startswith(("http://", "https://")):
            raise forms.ValidationError(_("Use an http:// or https:// address."))
        return endpoint.rstrip("/")

    def clean_password(self):
        return self.cleaned_data["password"] or self._current_password
