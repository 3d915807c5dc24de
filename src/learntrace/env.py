"""Small helpers that read settings from the environment.

Secrets may also come from a file named by the same variable with `_FILE`
appended (container secrets), and otherwise from a file generated once in the
data folder, so no secret is ever a literal in the code.
"""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def env(name: str, default: str | None = None) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    """A yes/no setting. A word it does not know stops the start-up: `SECURE_COOKIES=ture` read
    as "off" would silently weaken the deployment."""
    value = env(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={value.strip()!r} is not understood: use one of "
                               f"{', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}.")


def envint(name: str, default: int) -> int:
    value = env(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value.strip()!r} is not a whole number.") from None


def envlist(name: str, default: str = "") -> list[str]:
    value = env(name, default) or ""
    return [item.strip() for item in value.split(",") if item.strip()]


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a program this one starts (gunicorn, the worker, pg_dump): this process's, plus
    `extra`."""
    return {**os.environ, **extra}


def generated_secret(name: str, path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(50)) -> str:
    """Return the secret from the environment, or from `path`, creating it on first run."""
    value = env(name)
    if value:
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
    return path.read_text().strip()
