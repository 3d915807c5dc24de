"""Every user-facing string is translated into Simplified Chinese, and the compiled
catalogue that ships matches the source."""

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import learntrace

PACKAGE = Path(learntrace.__file__).parent
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def read_po(path: Path) -> dict:
    """{msgid: [msgstr, ...]} of a .po file, with fuzzy entries marked by a leading None. A msgid with a
    context (pgettext) is keyed as gettext compiles it: "context\x04msgid"."""
    entries, current, key, fuzzy = {}, {}, None, False

    def flush():
        if "msgid" in current and current["msgid"]:
            strings = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
            key = f"{current['msgctxt']}\x04{current['msgid']}" if "msgctxt" in current else current["msgid"]
            entries[key] = ([None] if fuzzy else []) + strings

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            current, key, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, _space, literal = line.partition(" ")
            current[key] = ast.literal_eval(literal)
    return entries


def test_every_string_in_the_catalogue_is_translated():
    entries = read_po(PO)
    assert len(entries) > 150
    untranslated = [msgid for msgid, strings in entries.items() if not strings or None in strings or not all(strings)]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    catalogue = gettext.GNUTranslations(MO.open("rb"))._catalog
    for msgid, strings in read_po(PO).items():
        compiled = catalogue.get(msgid, catalogue.get((msgid, 0)))
        assert compiled == strings[0], f"{msgid!r}: run `make messages`"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed (Debian: gettext)")
def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path):
    copy = tmp_path / "learntrace"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": str(tmp_path / "data")}
    subprocess.run([sys.executable, "-m", "learntrace", "makemessages", "-l", "zh_Hans", "--no-obsolete",
                    "--ignore", "settings_test.py"], cwd=copy, env=env, check=True, capture_output=True)
    fresh = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [msgid for msgid, strings in fresh.items() if not strings or None in strings or not all(strings)]
    assert missing == [], "untranslated: run `make messages` and translate them in django.po"
