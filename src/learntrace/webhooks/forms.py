"""The subscription form (its events as a checklist) and the delivery log's filter."""

from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.webhooks.addresses import AddressRefused, check_url
from learntrace.webhooks.models import EventType, Subscription, WebhookDelivery


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("Where the events are POSTed, as JSON signed with the subscription's secret."))
    events = forms.MultipleChoiceField(label=_("Events"), choices=EventType.choices,
                                       widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": _("Choose at least one event.")})

    class Meta:
        model = Subscription
        fields = ["name", "url", "events", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except AddressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url

    def clean_events(self):
        chosen = set(self.cleaned_data["events"])
        return [value for value in EventType.values if value in chosen]  # a stable order


class DeliveryFilter(forms.Form):
    subscription = forms.ModelChoiceField(label=_("Subscription"), queryset=Subscription.objects.all(),
                                          required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("any"))] + list(WebhookDelivery.Status.choices))

    def filter(self, deliveries):
        if self.cleaned_data.get("subscription"):
            deliveries = deliveries.filter(subscription=self.cleaned_data["subscription"])
        if self.cleaned_data.get("status"):
            deliveries = deliveries.filter(status=self.cleaned_data["status"])
        return deliveries
