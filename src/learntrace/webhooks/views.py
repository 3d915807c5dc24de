"""Pages of webhooks: subscriptions for training admins (the secret shown once, when made or
rotated), the delivery log for admins and auditors (sending again is for admins)."""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from learntrace.core.feedback import show_errors
from learntrace.core.paging import page_of
from learntrace.org.access import admin_required, reader_required
from learntrace.webhooks import services
from learntrace.webhooks.addresses import AddressRefused
from learntrace.webhooks.forms import DeliveryFilter, SubscriptionForm
from learntrace.webhooks.models import Subscription, WebhookDelivery


@admin_required
def subscription_list(request):
    return render(request, "webhooks/subscription_list.html", {"subscriptions": Subscription.objects.all()})


def _show_secret(request, subscription, secret, *, rotated=False):
    # Rendered, not redirected to: the secret never travels through the session or a URL.
    return render(request, "webhooks/secret.html", {"subscription": subscription, "secret": secret,
                                                    "rotated": rotated})


@never_cache
@admin_required
def subscription_edit(request, subscription_id=None):
    subscription = get_object_or_404(Subscription, pk=subscription_id) if subscription_id else Subscription()
    form = SubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        try:
            secret = services.subscription_save(actor=request.user, subscription=form.save(commit=False))
        except AddressRefused as refused:  # the name resolves elsewhere since the form checked it
            form.add_error("url", str(refused))
        else:
            if secret:
                return _show_secret(request, subscription, secret)
            messages.success(request, _("Subscription saved."))
            return redirect("webhooks:subscriptions")
    return render(request, "webhooks/subscription_form.html", {
        "form": form, "subscription": subscription, "overlap_hours": settings.WEBHOOKS_SECRET_OVERLAP_HOURS})


@admin_required
def subscription_delete(request, subscription_id):
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    if request.method == "POST":
        services.subscription_delete(actor=request.user, subscription=subscription)
        messages.success(request, _("Subscription deleted, with its deliveries."))
        return redirect("webhooks:subscriptions")
    return render(request, "webhooks/subscription_delete.html", {
        "subscription": subscription, "deliveries": subscription.deliveries.count(),
        "waiting": subscription.deliveries.filter(status__in=[WebhookDelivery.Status.QUEUED,
                                                              WebhookDelivery.Status.SENDING]).count()})


@never_cache
@require_POST
@admin_required
def subscription_rotate(request, subscription_id):
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    secret = services.rotate_secret(actor=request.user, subscription=subscription)
    return _show_secret(request, subscription, secret, rotated=True)


@require_POST
@admin_required
def subscription_test(request, subscription_id):
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    try:
        delivery = services.send_test(actor=request.user, subscription=subscription)
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect("webhooks:subscription_edit", subscription_id=subscription.pk)
    messages.success(request, _("Test event queued."))
    return redirect("webhooks:delivery", delivery_id=delivery.pk)


@reader_required
def delivery_list(request):
    form = DeliveryFilter(request.GET or None)
    deliveries = WebhookDelivery.objects.select_related("subscription", "event")
    if form.is_valid():
        deliveries = form.filter(deliveries)
    page, query = page_of(request, deliveries)
    return render(request, "webhooks/delivery_list.html", {"form": form, "page": page, "query": query})


@reader_required
def delivery_detail(request, delivery_id):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription", "event"), pk=delivery_id)
    return render(request, "webhooks/delivery_detail.html", {
        "delivery": delivery, "attempts": delivery.attempt_log.all(),
        "payload": json.dumps(delivery.event.payload, ensure_ascii=False, indent=2)})


@require_POST
@admin_required
def delivery_resend(request, delivery_id):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription"), pk=delivery_id)
    try:
        services.resend(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Queued to be sent again, with the same webhook-id."))
    return redirect("webhooks:delivery", delivery_id=delivery.pk)
