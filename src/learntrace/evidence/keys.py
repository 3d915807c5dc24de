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
