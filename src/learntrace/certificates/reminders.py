"""Reminding people, and their department heads, before a certificate expires: on the days
before expiry its kind names, through its channels, as notify's deliveries (sent at most once
each: the key names the certificate, the day count, the recipient and the channel). A revoked
certificate is reminded of no more, and does not count as a renewal."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learntrace.certificates.models import Certificate, CertificateKind
from learntrace.core.months import local_zone, start_of_day
from learntrace.notify.markup import literal, one_line
from learntrace.notify.messages import absolute, language_of
from learntrace.notify.models import Delivery
from learntrace.notify.services import heads_of, queue_deliveries

SEND_FROM = dt.time(9, 0)  # local time: nobody is reminded at night


def message(recipient, certificate: Certificate) -> tuple[str, str, str]:
    link = absolute(reverse("certificates:certificate", args=[certificate.pk]))
    expires = timezone.localtime(certificate.expires_at, local_zone()).strftime("%Y-%m-%d")
    with translation.override(language_of(recipient)):
        subject = _("Certificate expiring: %(title)s") % {"title": one_line(certificate.title)}
        lines = [_("Hello %(name)s,") % {"name": literal(recipient.name)}]
        if recipient.pk == certificate.employee_id:
            lines.append(_("Your certificate %(title)s expires on %(date)s. Renew it in time.")
                         % {"title": literal(certificate.title), "date": expires})
        else:
            lines.append(_("The certificate %(title)s of %(person)s expires on %(date)s.")
                         % {"title": literal(certificate.title), "person": literal(certificate.employee.name),
                            "date": expires})
        label = _("Open the certificate")
        lines.append(f"[{label}]({link})")
    return subject, "\n\n".join(lines), link


def send_due(*, now: dt.datetime | None = None) -> int:
    """Queue today's expiry reminders; returns how many deliveries were queued."""
    now = now or timezone.now()
    local_now = timezone.localtime(now, local_zone())
    if local_now.time() < SEND_FROM:
        return 0
    today = local_now.date()
    rows = []
    for kind in CertificateKind.objects.exclude(remind_days_before=[]).prefetch_related("channels"):
        channels = [channel for channel in kind.channels.all() if channel.is_active]
        if not channels:
            continue
        for days in sorted({int(d) for d in kind.remind_days_before}):
            day = today + dt.timedelta(days=days)
            expiring = (Certificate.objects.filter(kind=kind, employee__is_active=True, revocation__isnull=True,
                                                   expires_at__gte=start_of_day(day),
                                                   expires_at__lt=start_of_day(day + dt.timedelta(days=1)))
                        .select_related("employee__department"))
            # Someone who already holds a later certificate of the same kind needs no reminder.
            renewed = set(Certificate.objects.filter(
                kind=kind, revocation__isnull=True, expires_at__gte=start_of_day(day + dt.timedelta(days=1)),
            ).values_list("employee_id", flat=True))
            expiring = [c for c in expiring if c.employee_id not in renewed]
            heads = heads_of({c.employee.department.path for c in expiring}) if kind.remind_heads else {}
            for certificate in expiring:
                recipients = [certificate.employee] + [
                    head for head, paths in heads.items()
                    if head.pk != certificate.employee_id
                    and any(certificate.employee.department.path.startswith(path) for path in paths)]
                for recipient in recipients:
                    subject, text, link = message(recipient, certificate)
                    for channel in channels:
                        rows.append(Delivery(
                            key=f"certificate:{certificate.pk}:{days}:{recipient.pk}:{channel.pk}",
                            purpose=Delivery.Purpose.CERTIFICATE, recipient=recipient, channel=channel,
                            reminder_day=today, subject=subject[:200], text=text, link=link, next_attempt_at=now))
    return len(queue_deliveries(rows)) if rows else 0
