"""Forms of the channel configuration, the reminder schedules and the delivery log's filter."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from learntrace.core.numbers import whole_number
from learntrace.notify.models import ROBOT_KINDS, Channel, ChannelKind, Delivery, ReminderSchedule
from learntrace.plans.models import LearningPlan

ROBOT_RATE_LIMIT = 20  # DingTalk and WeCom robots refuse more than 20 messages a minute


class ChannelForm(forms.ModelForm):
    token = forms.CharField(
        label=_("Token or URL"), required=False, max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("DingTalk robot: access_token; WeCom robot: key; Feishu bot: the hook id; webhook: its URL. "
                    "Leave empty to keep the stored value."))
    secret = forms.CharField(
        label=_("Secret"), required=False, max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("The robot's signing secret (加签), the app's AppSecret, or the webhook's shared secret. "
                    "Leave empty to keep the stored value."))

    class Meta:
        model = Channel
        fields = ["name", "kind", "app_key", "agent_id", "rate_per_minute", "is_active"]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        token = data.get("token") or self.instance.token
        secret = data.get("secret") or self.instance.secret
        if kind in ROBOT_KINDS and not token:
            self.add_error("token", _("Enter the robot's token."))
        if kind in {ChannelKind.DINGTALK_WORK, ChannelKind.WECOM_APP, ChannelKind.FEISHU_APP}:
            if not data.get("app_key"):
                self.add_error("app_key", {
                    ChannelKind.DINGTALK_WORK: _("Enter the app's AppKey."),
                    ChannelKind.WECOM_APP: _("Enter the corp's CorpID."),
                    ChannelKind.FEISHU_APP: _("Enter the app's App ID."),
                }[kind])
            if not secret:
                self.add_error("secret", _("Enter the app's AppSecret."))
            if kind != ChannelKind.FEISHU_APP and whole_number(data.get("agent_id") or "") is None:
                self.add_error("agent_id", _("Enter the app's AgentId (digits)."))
        if kind == ChannelKind.WEBHOOK:
            if not token:
                self.add_error("token", _("Enter the webhook's URL."))
            elif data.get("token"):
                try:
                    URLValidator(schemes=["http", "https"])(data["token"])
                except ValidationError:
                    self.add_error("token", _("Enter a URL starting with https:// or http://."))
            if not secret:
                self.add_error("secret", _("Enter a shared secret: the receiver checks the signature with it."))
        if kind in ROBOT_KINDS:
            rate = data.get("rate_per_minute") or 0
            if rate > ROBOT_RATE_LIMIT:
                self.add_error("rate_per_minute", _("Robots accept at most 20 messages a minute."))
            elif not rate:
                data["rate_per_minute"] = ROBOT_RATE_LIMIT
        return data


def _day_numbers(value: str, *, low: int, high: int) -> list[int]:
    numbers = []
    for part in re.split(r"[\s,，、;；]+", value.strip()):
        if not part:
            continue
        number = whole_number(part)
        if number is None or not low <= number <= high:
            raise ValidationError(_("Enter whole numbers from %(low)d to %(high)d, separated by commas."),
                                  params={"low": low, "high": high})
        numbers.append(number)
    return sorted(set(numbers))


class ReminderScheduleForm(forms.ModelForm):
    days_of_month_text = forms.CharField(
        label=_("Days of the month"), required=False, max_length=200,
        help_text=_("E.g. 15, 25: reminds on these days of every month of the period, up to the due day."))
    days_before_due_text = forms.CharField(
        label=_("Days before the due day"), required=False, max_length=200,
        help_text=_("E.g. 3, 1: reminds this many days before the due day; 0 is the due day itself."))
    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"), queryset=Channel.objects.filter(is_active=True), widget=forms.CheckboxSelectMultiple)

    field_order = ["days_of_month_text", "days_before_due_text", "time_of_day", "below_percent", "channels",
                   "head_digest", "meeting_days_before", "is_active"]

    class Meta:
        model = ReminderSchedule
        fields = ["time_of_day", "below_percent", "head_digest", "meeting_days_before", "is_active"]
        widgets = {"time_of_day": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["days_of_month_text"].initial = ", ".join(map(str, self.instance.days_of_month))
            self.fields["days_before_due_text"].initial = ", ".join(map(str, self.instance.days_before_due))
            self.fields["channels"].initial = list(self.instance.channels.all())

    def clean_days_of_month_text(self):
        return _day_numbers(self.cleaned_data["days_of_month_text"], low=1, high=31)

    def clean_days_before_due_text(self):
        return _day_numbers(self.cleaned_data["days_before_due_text"], low=0, high=60)

    def clean(self):
        data = super().clean()
        if not (data.get("days_of_month_text") or data.get("days_before_due_text")
                or data.get("meeting_days_before") is not None) and not self.errors:
            raise ValidationError(_("Choose when to remind: days of the month, days before the due day, "
                                    "or days before a meeting."))
        return data

    def save(self, commit=True):
        self.instance.days_of_month = self.cleaned_data["days_of_month_text"]
        self.instance.days_before_due = self.cleaned_data["days_before_due_text"]
        return super().save(commit=commit)


class DeliveryFilter(forms.Form):
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("", _("any status"))] + list(Delivery.Status.choices))
    channel = forms.ModelChoiceField(label=_("channel"), required=False, queryset=Channel.objects.all(),
                                     empty_label=_("any channel"))
    plan = forms.ModelChoiceField(label=_("plan"), required=False, queryset=LearningPlan.objects.all(),
                                  empty_label=_("any plan"))
    purpose = forms.ChoiceField(label=_("purpose"), required=False,
                                choices=[("", _("any purpose"))] + list(Delivery.Purpose.choices))
    day = forms.DateField(label=_("reminder day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, deliveries):
        data = self.cleaned_data
        if data.get("status"):
            deliveries = deliveries.filter(status=data["status"])
        if data.get("channel"):
            deliveries = deliveries.filter(channel=data["channel"])
        if data.get("plan"):
            deliveries = deliveries.filter(plan=data["plan"])
        if data.get("purpose"):
            deliveries = deliveries.filter(purpose=data["purpose"])
        if data.get("day"):
            deliveries = deliveries.filter(reminder_day=data["day"])
        return deliveries
