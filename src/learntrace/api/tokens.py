"""Creating, checking and revoking API tokens.

A token is "lt_<prefix>_<secret>": the prefix finds the row, and the SHA-256 of the whole
token is compared in constant time with the stored hash. The secret has 256 bits of
entropy, so a plain hash is enough (no slow password hash is needed)."""

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.api.models import ApiToken, RateWindow, Scope, TokenUse
from learntrace.core.audit import record_change

MAX_EXPIRY_DAYS = 3650


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_token(*, actor, user, name: str, scopes, expires_days: int) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself, which is never stored and shown once."""
    scopes = sorted(set(scopes))
    errors = {}
    if not name.strip():
        errors["name"] = _("Give the token a name, e.g. the system that will use it.")
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown:
        errors["scopes"] = _("Unknown scope(s): %(scopes)s.") % {"scopes": ", ".join(unknown)}
    elif not scopes:
        errors["scopes"] = _("Choose at least one scope.")
    if not isinstance(expires_days, int) or not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        errors["expires_days"] = _("The token must expire within 1 to %(days)d days.") % {"days": MAX_EXPIRY_DAYS}
    if user is None or not user.is_active:
        errors["user"] = _("The token must act as an active user.")
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    token = f"lt_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        name=name.strip()[:100], user=user, prefix=prefix, secret_hash=_digest(token), scopes=scopes,
        expires_at=timezone.now() + dt.timedelta(days=expires_days), created_by=actor)
    record_change(actor=actor, action="create", obj=row, summary=f"{row.name} → {user.get_username()}",
                  changes={"scopes": (None, ", ".join(scopes))})
    return row, token


def find_token(presented: str) -> ApiToken | None:
    """The token row whose secret matches (usable or not), or None."""
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != "lt":
        return None
    row = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(presented)):
        return None
    return row


def revoke_token(*, actor, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_change(actor=actor, action="revoke", obj=token, summary=token.name)


def _count_request(token_id: int, minute: int) -> int:
    """Count one request in the token's window and return the window's count, in one statement:
    concurrent requests (threads, processes, hosts) each get a different number."""
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (token_id, minute, requests) VALUES (%s, %s, 1) "
                       f"ON CONFLICT (token_id, minute) DO UPDATE SET requests = {table}.requests + 1 "
                       f"RETURNING requests", [token_id, minute])
        return cursor.fetchone()[0]


def within_rate_limit(token: ApiToken, now: dt.datetime | None = None) -> tuple[bool, int]:
    """Count a request in the token's current minute; (allowed, seconds until the next minute)."""
    now = now or timezone.now()
    count = _count_request(token.pk, int(now.timestamp() // 60))
    return count <= settings.API_RATE_LIMIT_PER_MINUTE, 60 - int(now.timestamp()) % 60


def forget_old_windows(now: dt.datetime | None = None) -> int:
    """Drop the windows before the last minute (a periodic task: requests only count)."""
    minute = int((now or timezone.now()).timestamp() // 60)
    return RateWindow.objects.filter(minute__lt=minute - 1).delete()[0]


def forget_old_uses(now: dt.datetime | None = None) -> int:
    """The use log keeps API_TOKEN_USE_DAYS of history."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.API_TOKEN_USE_DAYS)
    return TokenUse.objects.filter(at__lt=limit).delete()[0]


def record_use(*, token: ApiToken, method: str, endpoint: str, status: int) -> None:
    """Both rows or neither; a failure leaves an enclosing transaction usable."""
    now = timezone.now()
    with transaction.atomic():
        TokenUse.objects.create(token=token, at=now, method=method[:8], endpoint=endpoint[:200], status=status)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
