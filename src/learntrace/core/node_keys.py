"""Keys every node of one installation must share.

Several web servers and workers may serve one database. Each reads its keys from its environment or its
own data folder, and a node started with the defaults generates new ones: its sessions and check-in
tickets would not be accepted by the others, it could not read the employees they encrypted, and its
seals would not verify. So the first node records a fingerprint of each key in the database, and a node
whose key differs refuses to start and names the key (a system check, run by `serve`, the worker and
`migrate`; the web process runs it when it loads). A fingerprint is an HMAC of a fixed text under the
key: it identifies the key without revealing it.

Apps register their keys here (evidence registers its signing key); core knows only its own.
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, IntegrityError, transaction

FINGERPRINT_TEXT = b"learntrace node key"


def fingerprint(secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]


class KeyProblem(Exception):
    """This node cannot use the database with the key it has; the message says which key and what to do."""


@dataclass(frozen=True)
class NodeKey:
    setting: str  # what an administrator sets, named in the refusal
    current: Callable[[], str]  # the fingerprint of the key this node writes with
    readable: Callable[[], set[str]] = field(default=lambda: set())  # older keys it still reads (rotation)
    # Where the data itself says which key wrote it (seals name their key), the recorded fingerprint comes
    # from there; otherwise it is kept in core's KeyFingerprint table.
    written_with: Callable[[], str | None] | None = None


REGISTERED: dict[str, NodeKey] = {}


def register(key: NodeKey) -> None:
    REGISTERED[key.setting] = key


def _secret_key() -> str:
    return fingerprint(settings.SECRET_KEY)


def _secret_fallbacks() -> set[str]:
    return {fingerprint(key) for key in getattr(settings, "SECRET_KEY_FALLBACKS", [])}


def _field_key() -> str:
    return fingerprint(settings.FIELD_ENCRYPTION_KEYS[0])


def _field_fallbacks() -> set[str]:
    return {fingerprint(key) for key in settings.FIELD_ENCRYPTION_KEYS[1:]}


register(NodeKey("SECRET_KEY", _secret_key, _secret_fallbacks))
register(NodeKey("FIELD_ENCRYPTION_KEY", _field_key, _field_fallbacks))


def _recorded(setting: str) -> str | None:
    from .models import KeyFingerprint

    return KeyFingerprint.objects.filter(setting=setting).values_list("fingerprint", flat=True).first()


def _record(setting: str, value: str, replacing: str | None) -> None:
    from .models import KeyFingerprint

    if replacing is None:
        try:
            with transaction.atomic():
                KeyFingerprint.objects.create(setting=setting, fingerprint=value)
        except IntegrityError:  # another node recorded it first: compare against theirs next time
            pass
    else:  # a rotation: only the node that still reads the old key may move the record on
        KeyFingerprint.objects.filter(setting=setting, fingerprint=replacing).update(fingerprint=value)


def verify() -> None:
    """Raise KeyProblem for the first key this node does not share with the database; record the keys of
    the first node. A database without core's tables (before `migrate`) has nothing to compare."""
    for key in REGISTERED.values():
        try:
            mine = key.current()
        except DatabaseError:
            return  # not migrated yet
        if key.written_with is not None:
            try:
                theirs = key.written_with()
            except DatabaseError:
                return  # not migrated yet
            if theirs is not None and theirs != mine and theirs not in key.readable():
                raise KeyProblem(_mismatch(key.setting, mine, theirs))
            continue
        try:
            theirs = _recorded(key.setting)
        except DatabaseError:
            return  # not migrated yet
        if theirs is None:
            _record(key.setting, mine, replacing=None)
        elif theirs != mine:
            if theirs not in key.readable():
                raise KeyProblem(_mismatch(key.setting, mine, theirs))
            _record(key.setting, mine, replacing=theirs)


def _mismatch(setting: str, mine: str, theirs: str) -> str:
    return (f"{setting} on this node (fingerprint {mine}) is not the key this database was written with "
            f"(fingerprint {theirs}). Give every node the same {setting} as the node that wrote the data "
            f"(docs/deployment.md); a rotated key keeps the old one readable "
            f"({'SECRET_KEY_FALLBACKS' if setting == 'SECRET_KEY' else 'the older keys after the new one'}).")


@checks.register()
def node_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if app_configs is not None and not any(config.label == "core" for config in app_configs):
        return []
    try:
        verify()
    except KeyProblem as problem:
        return [checks.Error(str(problem), id="learntrace.E001")]
    return []
