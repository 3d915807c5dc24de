"""Settings for the test suite: the real settings with a private data folder,
fast password hashing and tasks run in-process."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="learntrace-test-"))

from learntrace.settings import *  # noqa: E402,F403
from learntrace.settings import DATA_DIR, DATABASES, HUEY  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the worker and server tests open it from other processes.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

# One cache per test process: a test that clears the cache must not clear another process's tokens.
# A file cache even where CACHE_URL names a Redis for the deployment.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                      "LOCATION": str(DATA_DIR / f"cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")}}
