"""Every node of an installation shares its keys: the first records their fingerprints, and a node
started with another key refuses to start and names it (core/node_keys.py)."""

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from learntrace.core.models import KeyFingerprint
from learntrace.core.node_keys import KeyProblem, fingerprint, verify
from learntrace.evidence import keys
from learntrace.evidence.models import Seal
from test_worker import database_url

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def test_a_fingerprint_identifies_a_key_without_revealing_it():
    assert fingerprint("k1") == fingerprint(b"k1")
    assert fingerprint("k1") != fingerprint("k2")
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint("k1"))
    assert "k1" not in fingerprint("k1")


def test_the_first_node_records_its_keys_and_the_same_keys_pass(db, settings):
    verify()
    recorded = dict(KeyFingerprint.objects.values_list("setting", "fingerprint"))
    assert recorded == {"SECRET_KEY": fingerprint(settings.SECRET_KEY),
                        "FIELD_ENCRYPTION_KEY": fingerprint(settings.FIELD_ENCRYPTION_KEYS[0])}
    verify()
    assert KeyFingerprint.objects.count() == 2


def test_a_node_with_another_secret_key_is_refused_and_told_which(db, settings):
    first = settings.SECRET_KEY
    verify()
    settings.SECRET_KEY = "another node's generated key"
    with pytest.raises(KeyProblem) as refused:
        verify()
    assert str(refused.value).startswith(
        f"SECRET_KEY on this node (fingerprint {fingerprint('another node' + chr(39) + 's generated key')}) is not "
        f"the key this database was written with (fingerprint {fingerprint(first)}).")
    assert first not in str(refused.value)  # the message never shows a key
    assert KeyFingerprint.objects.get(setting="SECRET_KEY").fingerprint == fingerprint(first)


def test_a_rotated_secret_key_moves_the_record_on_and_then_refuses_the_old_one(db, settings):
    old = settings.SECRET_KEY
    verify()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the new key", [old]
    verify()
    assert KeyFingerprint.objects.get(setting="SECRET_KEY").fingerprint == fingerprint("the new key")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = old, []  # a node nobody updated
    with pytest.raises(KeyProblem, match="^SECRET_KEY on this node"):
        verify()


def test_field_encryption_keys_are_compared_and_may_rotate(db, settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    verify()
    other = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [other]
    with pytest.raises(KeyProblem, match=f"^FIELD_ENCRYPTION_KEY on this node \\(fingerprint {fingerprint(other)}\\)"):
        verify()
    settings.FIELD_ENCRYPTION_KEYS = [other, old]  # the new key encrypts, the old one still decrypts
    verify()
    assert KeyFingerprint.objects.get(setting="FIELD_ENCRYPTION_KEY").fingerprint == fingerprint(other)


def _seal(key_id: str) -> Seal:
    return Seal.objects.create(number=1, created_at=T0, fact_count=0, root="0" * 64, previous_hash="0" * 64,
                               seal_hash="1" * 64, signature="x", key_id=key_id, leaves=b"")


def test_the_signing_key_is_compared_with_the_key_the_seals_name(db, settings, tmp_path):
    mine = keys.key_id(keys.public_key())
    _seal(mine)
    verify()
    Seal.objects.update(key_id="ab" * 32)
    with pytest.raises(KeyProblem) as refused:
        verify()
    assert str(refused.value).startswith(f"EVIDENCE_SIGNING_KEY_FILE on this node (fingerprint {mine}) is not the "
                                         f"key this database was written with (fingerprint {'ab' * 32}).")


def test_a_missing_signing_key_is_not_made_again_when_seals_exist(db, settings, tmp_path):
    _seal(keys.key_id(keys.public_key()))
    settings.EVIDENCE_SIGNING_KEY_FILE = tmp_path / "lost.pem"
    with pytest.raises(KeyProblem, match=f"^EVIDENCE_SIGNING_KEY_FILE: there is no key at {tmp_path}/lost.pem"):
        verify()
    assert not (tmp_path / "lost.pem").exists()


def test_a_new_installation_makes_its_signing_key(db, settings, tmp_path):
    settings.EVIDENCE_SIGNING_KEY_FILE = tmp_path / "new.pem"
    verify()
    assert (tmp_path / "new.pem").exists()


def test_the_system_check_refuses_with_the_message(db, settings):
    verify()
    settings.SECRET_KEY = "not the same"
    with pytest.raises(SystemCheckError, match=r"learntrace\.E001.*SECRET_KEY on this node"):
        call_command("check")


@pytest.mark.django_db(transaction=True)
def test_a_second_node_with_its_own_generated_keys_refuses_to_start(tmp_path):
    """Two nodes on one database, each with its own data folder: the second one, started with the
    defaults, generated other keys; its worker, its web server and `serve` refuse and say which key."""
    first, second = tmp_path / "a", tmp_path / "b"
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
            "HUEY_IMMEDIATE": "0"}
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "EVIDENCE_SIGNING_KEY_FILE"):
        base.pop(name, None)
    run = subprocess.run([sys.executable, "-m", "learntrace", "check"], env={**base, "DATA_DIR": str(first)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    for command in (["check"], ["serve", "--no-worker", "--port", "1"], ["run_huey"]):
        run = subprocess.run([sys.executable, "-m", "learntrace", *command], env={**base, "DATA_DIR": str(second)},
                             capture_output=True, text=True, timeout=120)
        assert run.returncode != 0, command
        assert "learntrace.E001" in run.stderr and "SECRET_KEY on this node" in run.stderr, command
    # Given the first node's keys, the second starts.
    shared = {**base, "DATA_DIR": str(second), "SECRET_KEY": (first / "secret.key").read_text(),
              "FIELD_ENCRYPTION_KEY": (first / "field-encryption.key").read_text()}
    run = subprocess.run([sys.executable, "-m", "learntrace", "check"], env=shared, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
