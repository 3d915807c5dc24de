"""Pages of notifications: the bell's list for everyone, channels and reminder schedules for
training admins, the delivery log for admins and auditors (resending is for admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.core.feedback import show_errors
from learntrace.core.paging import page_of
from learntrace.notify import services
from learntrace.notify.forms import ChannelForm, DeliveryFilter, ReminderScheduleForm
from learntrace.notify.models import Channel, Delivery, Notification, ReminderSchedule
from learntrace.org.access import admin_required, login_required, reader_required, roles_of
from learntrace.plans.models import LearningPlan


def _own_notifications(request):
    employee_id = roles_of(request.user).employee_id
    return Notification.objects.filter(employee_id=employee_id) if employee_id else Notification.objects.none()


@login_required
def inbox(request):
    page = Paginator(_own_notifications(request), 30).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {"page": page})


@require_POST
@login_required
def notification_open(request, notification_id):
    notification = get_object_or_404(_own_notifications(request), pk=notification_id)
    services.mark_read(employee_id=notification.employee_id, notification_ids=[notification.pk])
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()}):
        return redirect(notification.link)
    return redirect("notify:inbox")


@require_POST
@login_required
def notifications_read(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id:
        services.mark_read(employee_id=employee_id)
    return redirect("notify:inbox")


@admin_required
def channel_list(request):
    return render(request, "notify/channel_list.html", {"channels": Channel.objects.all()})


@admin_required
def channel_edit(request, channel_id=None):
    channel = get_object_or_404(Channel, pk=channel_id) if channel_id else Channel()
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        services.channel_save(actor=request.user, channel=saved, token=form.cleaned_data["token"],
                              secret=form.cleaned_data["secret"])
        messages.success(request, _("Channel saved."))
        return redirect("notify:channels")
    return render(request, "notify/channel_form.html", {"form": form, "channel": channel})


@reader_required
def plan_reminders(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    schedules = plan.reminder_schedules.prefetch_related("channels")
    return render(request, "notify/plan_reminders.html", {"plan": plan, "schedules": schedules})


@admin_required
def schedule_edit(request, plan_id, schedule_id=None):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    schedule = get_object_or_404(ReminderSchedule, pk=schedule_id, plan=plan) if schedule_id \
        else ReminderSchedule(plan=plan, created_by=request.user)
    form = ReminderScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        services.schedule_save(actor=request.user, schedule=saved, channels=form.cleaned_data["channels"])
        messages.success(request, _("Reminders saved."))
        return redirect("notify:plan_reminders", plan_id=plan.pk)
    return render(request, "notify/schedule_form.html", {"form": form, "plan": plan, "schedule": schedule})


@require_POST
@admin_required
def schedule_delete(request, plan_id, schedule_id):
    schedule = get_object_or_404(ReminderSchedule, pk=schedule_id, plan_id=plan_id)
    services.schedule_delete(actor=request.user, schedule=schedule)
    messages.success(request, _("Reminder schedule deleted."))
    return redirect("notify:plan_reminders", plan_id=plan_id)


@reader_required
def delivery_list(request):
    form = DeliveryFilter(request.GET or None)
    deliveries = Delivery.objects.select_related("recipient", "channel", "plan")
    if form.is_valid():
        deliveries = form.filter(deliveries)
    page, query = page_of(request, deliveries)
    return render(request, "notify/delivery_list.html", {"form": form, "page": page, "query": query})


@reader_required
def delivery_detail(request, delivery_id):
    delivery = get_object_or_404(Delivery.objects.select_related("recipient", "channel", "plan", "resend_of",
                                                                 "created_by"), pk=delivery_id)
    return render(request, "notify/delivery_detail.html", {
        "delivery": delivery, "attempts": delivery.attempt_log.all(), "resends": delivery.resends.all()})


@require_POST
@admin_required
def delivery_resend(request, delivery_id):
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        copy = services.resend(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect("notify:delivery", delivery_id=delivery.pk)
    messages.success(request, _("Resent as a new delivery."))
    return redirect("notify:delivery", delivery_id=copy.pk)
