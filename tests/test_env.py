"""Settings from the environment: yes/no and number values it does not understand stop the
start-up with the variable's name, instead of being read as "off" or crashing without one."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from learntrace.env import envbool, envint


@pytest.mark.parametrize(("word", "value"), [("1", True), ("true", True), ("Yes", True), (" ON ", True),
                                             ("0", False), ("false", False), ("No", False), ("off", False)])
def test_the_yes_and_no_words(monkeypatch, word, value):
    monkeypatch.setenv("SECURE_COOKIES", word)
    assert envbool("SECURE_COOKIES", not value) is value


@pytest.mark.parametrize("default", [True, False])
def test_an_unset_or_empty_value_is_the_default(monkeypatch, default):
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    assert envbool("SECURE_COOKIES", default) is default
    monkeypatch.setenv("SECURE_COOKIES", " ")
    assert envbool("SECURE_COOKIES", default) is default


@pytest.mark.parametrize("word", ["ture", "enabled", "2", "y", "oui"])
def test_a_word_it_does_not_know_is_refused_naming_the_variable(monkeypatch, word):
    monkeypatch.setenv("SECURE_COOKIES", word)
    with pytest.raises(ImproperlyConfigured) as refused:
        envbool("SECURE_COOKIES")
    assert str(refused.value) == (f"SECURE_COOKIES={word!r} is not understood: use one of 1, true, yes, on "
                                  "or 0, false, no, off.")


def test_a_number_that_is_not_one_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SESSION_HOURS", "twelve")
    with pytest.raises(ImproperlyConfigured) as refused:
        envint("SESSION_HOURS", 12)
    assert str(refused.value) == "SESSION_HOURS='twelve' is not a whole number."
    monkeypatch.setenv("SESSION_HOURS", " 8 ")
    assert envint("SESSION_HOURS", 12) == 8


def test_the_server_refuses_to_start_with_a_misspelt_boolean(tmp_path):
    started = subprocess.run(
        [sys.executable, "-m", "learntrace", "check"], capture_output=True, text=True, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "SECURE_COOKIES": "ture",
             "DJANGO_SETTINGS_MODULE": "learntrace.settings"})
    assert started.returncode == 1
    assert started.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: SECURE_COOKIES='ture' is not understood: "
        "use one of 1, true, yes, on or 0, false, no, off.")


def test_no_module_reads_a_setting_from_os_environ_directly():
    """Settings are read in settings.py through env.py's helpers (with their checks and `_FILE`
    variants); only the entry points name the settings module, and the test settings their folder."""
    import ast
    from pathlib import Path

    import learntrace

    package = Path(learntrace.__file__).parent
    allowed = {"env.py", "settings_test.py", "cli.py", "wsgi.py"}
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                    and node.attr in ("environ", "getenv", "environb"):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []
