"""Activation and reset links: how a person gets a password that nobody else knows.

A training admin sends activation links to people without a usable login (the worker sends them,
per person through the first chosen channel that reaches them); anyone may ask for a reset link by
employee number or e-mail. A link carries a random token of which only the SHA-256 is stored; it is
claimed once by a conditional update, expires, and using it closes the person's other open links.
The admin never sees a link or a password: the token exists only in the message that was sent.
"""

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learntrace.accounts.models import LinkBatch, LinkDispatch, ResetRequest, SignInLink
from learntrace.accounts.signin import Refusal, account_of
from learntrace.core.audit import record_change
from learntrace.notify.channels import Message, adapter_for
from learntrace.notify.channels.base import OK, UNKNOWN
from learntrace.notify.markup import literal
from learntrace.notify.models import PERSONAL_KINDS, Channel
from learntrace.org.models import Employee

log = logging.getLogger(__name__)

# At most this many reset requests per address, and links per person, within the login lockout time.
RESETS_PER_PERSON = 3


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def without_usable_login(employees=None):
    """Active employees who cannot log in with a password yet (no account, or an unusable password)."""
    employees = Employee.objects.all() if employees is None else employees
    return employees.filter(is_active=True).filter(
        Q(user__isnull=True) | Q(user__password__startswith="!") | Q(user__password=""))


def password_fingerprint(employee: Employee) -> str:
    """Keyed with SECRET_KEY so that the stored value says nothing about the password hash."""
    user = employee.user if employee.user_id else None
    password = user.password if user is not None and user.has_usable_password() else ""
    return hmac.new(settings.SECRET_KEY.encode(), f"signin-link:{password}".encode(), hashlib.sha256).hexdigest()


def has_usable_login(employee: Employee) -> bool:
    return employee.user_id is not None and employee.user.is_active and employee.user.has_usable_password()


def personal_channels():
    """Active channels that reach one person directly, in the order the admin may pick from."""
    return Channel.objects.filter(is_active=True, kind__in=list(PERSONAL_KINDS)).order_by("name", "id")


def reset_channels() -> list[Channel]:
    """The channels a reset link is tried through: SIGNIN_LINK_CHANNELS gives the order of kinds."""
    channels = list(personal_channels())
    return [channel for kind in settings.SIGNIN_LINK_CHANNELS for channel in channels if channel.kind == kind]


def reaches(channel: Channel, employee: Employee) -> bool:
    return bool(getattr(employee, PERSONAL_KINDS[channel.kind], ""))


def _message_text(purpose: str, employee: Employee, url: str, expires_at: dt.datetime) -> tuple[str, str]:
    expires = timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M")
    if purpose == SignInLink.Purpose.ACTIVATION:
        subject = _("Your learntrace account")
        text = _("%(name)s, choose your password for learntrace (your username is your employee number "
                 "%(number)s): [open the link](%(url)s). The link works once, until %(expires)s.")
    else:
        subject = _("Reset your learntrace password")
        text = _("%(name)s, someone asked to reset your learntrace password (username %(number)s). To choose a "
                 "new one: [open the link](%(url)s). It works once, until %(expires)s. If it was not you, "
                 "ignore this message.")
    # Names and numbers are data: literal in every channel's markup (no links, no mentions).
    return subject, text % {"name": literal(employee.name), "number": literal(employee.employee_no), "url": url,
                            "expires": expires}


def send_link(*, employee: Employee, purpose: str, channels: list[Channel], site_url: str,
              now: dt.datetime | None = None) -> tuple[str, str, str]:
    """Issue a new link for the person and send it through the first channel that reaches them
    (the next one if a channel certainly failed). Answers (outcome, channel name, error)."""
    now = now or timezone.now()
    candidates = [channel for channel in channels if reaches(channel, employee)]
    if not candidates:
        return LinkDispatch.Outcome.UNREACHABLE, "", ""
    lifetime = dt.timedelta(days=settings.SIGNIN_LINK_DAYS) if purpose == SignInLink.Purpose.ACTIVATION \
        else dt.timedelta(hours=settings.SIGNIN_RESET_HOURS)
    token = secrets.token_urlsafe(32)
    link = SignInLink.objects.create(employee=employee, purpose=purpose, token_hash=token_hash(token),
                                     password_fingerprint=password_fingerprint(employee), expires_at=now + lifetime)
    url = f"{site_url.rstrip('/')}{reverse('accounts:link', args=[token])}"
    with translation.override(employee.language or settings.LANGUAGE_CODE):
        subject, text = _message_text(purpose, employee, url, link.expires_at)
    error, channel_name = "", ""
    for channel in candidates:
        channel_name = channel.name
        outcome = adapter_for(channel.kind).send(channel, Message(
            subject=subject, text=text, link=url, recipient=employee, key=f"signin-link:{link.pk}"))
        if outcome.result == OK:
            SignInLink.objects.filter(pk=link.pk).update(sent_at=now, channel_kind=channel.kind)
            return LinkDispatch.Outcome.SENT, channel.name, ""
        error = outcome.error or outcome.result
        if outcome.result == UNKNOWN:
            # It may have arrived: the link stays usable, but no second copy goes out.
            return LinkDispatch.Outcome.FAILED, channel.name, f"outcome unknown: {error}"[:300]
    SignInLink.objects.filter(pk=link.pk).update(closed_at=now)
    return LinkDispatch.Outcome.FAILED, channel_name, error[:300]


# -- activation links sent by a training admin --------------------------------------------------------

def create_batch(*, actor, employee_ids, channels: list[Channel]) -> LinkBatch:
    """Queue activation links for these people through these channels (tried in this order)."""
    from learntrace.accounts import tasks

    if not channels:
        raise ValueError("no channel")
    with transaction.atomic():
        batch = LinkBatch.objects.create(created_by=actor, channel_ids=[channel.pk for channel in channels],
                                         site_url=settings.SITE_URL)
        LinkDispatch.objects.bulk_create([LinkDispatch(batch=batch, employee_id=employee_id)
                                          for employee_id in sorted(set(employee_ids))], batch_size=500)
        record_change(actor=actor, action="signin_links.send", obj=batch,
                      summary=f"activation links for {len(set(employee_ids))} people via "
                              f"{', '.join(channel.name for channel in channels)}")
        transaction.on_commit(lambda: tasks.send_batch(batch.pk))
    return batch


def run_batch(batch_id: int) -> LinkBatch | None:
    """Send every queued link of the batch. Claimed by a conditional update, so it runs once."""
    if not LinkBatch.objects.filter(pk=batch_id, status=LinkBatch.Status.QUEUED) \
            .update(status=LinkBatch.Status.SENDING):
        return None
    batch = LinkBatch.objects.get(pk=batch_id)
    by_id = {channel.pk: channel for channel in Channel.objects.filter(pk__in=batch.channel_ids, is_active=True)}
    channels = [by_id[pk] for pk in batch.channel_ids if pk in by_id]
    waiting = batch.dispatches.filter(outcome=LinkDispatch.Outcome.QUEUED).select_related("employee__user")
    for dispatch in waiting.iterator(chunk_size=200):
        employee = dispatch.employee
        if not employee.is_active or has_usable_login(employee):
            outcome, channel_name, error = LinkDispatch.Outcome.SKIPPED, "", ""
        else:
            try:
                outcome, channel_name, error = send_link(employee=employee, purpose=SignInLink.Purpose.ACTIVATION,
                                                         channels=channels, site_url=batch.site_url)
            except Exception as exc:  # one person's failure must not stop the others
                log.exception("activation link for employee %s failed", employee.pk)
                outcome, channel_name, error = LinkDispatch.Outcome.FAILED, "", type(exc).__name__
        LinkDispatch.objects.filter(pk=dispatch.pk).update(outcome=outcome, channel_name=channel_name, error=error)
    LinkBatch.objects.filter(pk=batch_id).update(status=LinkBatch.Status.DONE, finished_at=timezone.now())
    counts = batch_counts(batch)
    record_change(actor=batch.created_by, action="signin_links.sent", obj=batch,
                  summary=", ".join(f"{name}: {count}" for name, count in counts.items()))
    return batch


def batch_counts(batch: LinkBatch) -> dict[str, int]:
    counts = dict(batch.dispatches.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return {outcome: counts.get(outcome, 0) for outcome in LinkDispatch.Outcome.values}


# -- forgot password -----------------------------------------------------------------------------------

def find_for_reset(identifier: str) -> Employee | None:
    """The one active employee named by an employee number, a username or an e-mail address."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    condition = Q(employee_no=identifier) | Q(user__username=identifier)
    if "@" in identifier:
        condition |= Q(email__iexact=identifier)
    found = list(Employee.objects.filter(condition, is_active=True).select_related("user")[:2])
    return found[0] if len(found) == 1 else None


def request_reset(*, identifier: str, ip_address: str | None, now: dt.datetime | None = None) -> bool:
    """Record a "forgot password" request and, when it names one active employee, send them a reset
    link from the worker. The caller answers the same either way; False means the address asked too often."""
    from learntrace.accounts import tasks

    now = now or timezone.now()
    since = now - settings.AXES_COOLOFF_TIME
    if ResetRequest.objects.filter(ip_address=ip_address, at__gte=since).count() >= settings.AXES_FAILURE_LIMIT:
        return False
    employee = find_for_reset(identifier)
    with transaction.atomic():
        if employee is not None and ResetRequest.objects.filter(employee=employee, at__gte=since).count() \
                >= RESETS_PER_PERSON:
            employee = None  # enough links are on their way to this person
        ResetRequest.objects.create(ip_address=ip_address, employee=employee)
        if employee is not None:
            employee_id = employee.pk
            transaction.on_commit(lambda: tasks.send_reset(employee_id))
    return True


def send_reset(employee_id: int) -> str:
    employee = Employee.objects.filter(pk=employee_id, is_active=True).first()
    if employee is None:
        return LinkDispatch.Outcome.SKIPPED
    outcome, _channel, error = send_link(employee=employee, purpose=SignInLink.Purpose.RESET,
                                         channels=reset_channels(), site_url=settings.SITE_URL)
    if outcome != LinkDispatch.Outcome.SENT:
        log.warning("reset link for employee %s not sent: %s %s", employee_id, outcome, error)
    return outcome


# -- using a link --------------------------------------------------------------------------------------

def open_link(token: str, *, now: dt.datetime | None = None) -> SignInLink:
    """The open link of this token, or Refusal("link")."""
    now = now or timezone.now()
    link = SignInLink.objects.select_related("employee__user").filter(token_hash=token_hash(token or "")).first()
    return check_open(link, now=now)


def check_open(link: SignInLink | None, *, now: dt.datetime | None = None, claimed: bool = False) -> SignInLink:
    """The link if it may still set a password (`claimed`: its use has just been recorded), else Refusal."""
    now = now or timezone.now()
    if link is None or (link.used_at and not claimed) or link.closed_at or link.expires_at <= now \
            or not hmac.compare_digest(link.password_fingerprint, password_fingerprint(link.employee)):
        raise Refusal("link")
    if not link.employee.is_active:
        raise Refusal("inactive", link.employee.employee_no)
    return link


def use_link(*, link_id: int, password: str, now: dt.datetime | None = None) -> Employee:
    """Claim the link (once), set the person's password and close their other links."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = SignInLink.objects.filter(pk=link_id, used_at__isnull=True, closed_at__isnull=True,
                                            expires_at__gt=now).update(used_at=now)
        if claimed != 1:
            raise Refusal("link")
        link = check_open(SignInLink.objects.select_related("employee__user").get(pk=link_id), now=now, claimed=True)
        employee = link.employee
        user = account_of(employee)
        user.set_password(password)
        user.save(update_fields=["password"])
        SignInLink.objects.filter(employee=employee, used_at__isnull=True, closed_at__isnull=True) \
            .update(closed_at=now)
        record_change(actor=user, action=f"password.{link.purpose}", obj=employee,
                      summary=f"{employee.employee_no} chose a password with a {link.purpose} link",
                      changes={"password": ("", "")})
    return employee
