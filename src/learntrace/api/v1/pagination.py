"""Cursor pagination over (time, id): the cursor is opaque (base64 of the last row's time
and id), so rows written while a client pages through are neither skipped nor repeated."""

import base64
import datetime as dt
import json

from django.db import models
from django.db.models import F, Func, Value
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from learntrace.api.v1.errors import invalid
from learntrace.api.v1.types import Text

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class PageParams(Schema):
    cursor: Text | None = Field(None, description="The next_cursor of the previous page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    updated_since: dt.datetime | None = Field(None, description="Only rows written or changed from then on.")


def encode(moment: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([moment.isoformat(), pk]).encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, pk = json.loads(text)
        moment = dt.datetime.fromisoformat(moment_text)
        if moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        return moment.astimezone(dt.UTC), pk
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, json.JSONDecodeError):
        raise invalid({"cursor": _("This cursor is not one the API gave out.")}) from None


def aware(moment: dt.datetime) -> dt.datetime:
    """In UTC: ISO 8601 allows offsets (up to ±24 h) that PostgreSQL refuses."""
    moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    return moment.astimezone(dt.UTC)


class Row(Func):
    """A row value, `(a, b)`: compared as a whole, `(time, id) > (t, i)` is one range of an index on
    (…, time, id), where `time > t OR (time = t AND id > i)` makes PostgreSQL read every row of the
    time `t` first (a period's standings all change at the moment it is judged)."""

    function = ""
    output_field = models.Field()


def paginate(queryset, time_field: str, params: PageParams) -> tuple[list, str | None]:
    if not 1 <= params.limit <= MAX_LIMIT:
        raise invalid({"limit": _("Between 1 and %(max)d.") % {"max": MAX_LIMIT}})
    if params.updated_since is not None:
        try:
            queryset = queryset.filter(**{f"{time_field}__gte": aware(params.updated_since)})
        except (OverflowError, ValueError):
            raise invalid({"updated_since": _("Not a usable date and time.")}) from None
    if params.cursor:
        moment, pk = decode(params.cursor)
        queryset = queryset.filter(GreaterThan(Row(F(time_field), F("pk")), Row(Value(moment), Value(pk))))
    rows = list(queryset.order_by(time_field, "pk")[:params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[:params.limit]
    next_cursor = encode(getattr(rows[-1], time_field), rows[-1].pk) if more else None
    return rows, next_cursor
