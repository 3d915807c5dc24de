"""The Ed25519 key that signs seals. It lives outside the database: in the file named by
EVIDENCE_SIGNING_KEY_FILE, or generated once into the data folder. Whoever verifies needs
only the public key, which an auditor keeps (and which the evidence bundle carries)."""

import hashlib
import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _


def key_path() -> Path:
    return Path(settings.EVIDENCE_SIGNING_KEY_FILE)


class SigningKeyUnavailable(OSError):
    """The key file cannot be made or read on this server (a missing folder, no permission, not a key)."""


def missing_key_message() -> str:
    return _("The evidence signing key cannot be read on this server. Please tell the administrator.")


@cache
def _private_key_for(path: str) -> Ed25519PrivateKey:
    try:
        return _load_or_make(Path(path))
    except (OSError, ValueError, TypeError) as exc:  # ValueError, TypeError: not an unencrypted PEM key
        raise SigningKeyUnavailable(str(path)) from exc


def _load_or_make(file: Path) -> Ed25519PrivateKey:
    if not file.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    return serialization.load_pem_private_key(file.read_bytes(), password=None)


def private_key() -> Ed25519PrivateKey:
    return _private_key_for(str(key_path()))


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw(public)).hexdigest()


def public_pem(public: Ed25519PublicKey | None = None) -> bytes:
    return (public or public_key()).public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    return serialization.load_pem_public_key(data)


def last_sealed_with() -> str | None:
    """The key id of the newest seal: the key this installation's evidence is signed with."""
    from .models import Seal

    return Seal.objects.order_by("-number").values_list("key_id", flat=True).first()


def node_fingerprint() -> str:
    """This node's signing key id, for the check that every node signs with the same key. A node whose key
    file is missing while seals exist must not make a new key (its seals would never verify elsewhere)."""
    from learntrace.core.node_keys import KeyProblem

    path = key_path()
    if not path.exists():
        sealed_with = last_sealed_with()
        if sealed_with is not None:
            raise KeyProblem(f"EVIDENCE_SIGNING_KEY_FILE: there is no key at {path}, but this database's seals "
                             f"are signed with key {sealed_with}. Restore that key file (docs/operations.md); "
                             f"a new key would make every seal this node writes fail verification elsewhere.")
    try:
        return key_id(public_key())
    except SigningKeyUnavailable as exc:
        raise KeyProblem(f"EVIDENCE_SIGNING_KEY_FILE: the key at {path} cannot be read or made "
                         f"({exc.__cause__}).") from exc
