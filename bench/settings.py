"""Settings of the benchmark server: learntrace's own, plus the bare baseline view."""

from learntrace.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
