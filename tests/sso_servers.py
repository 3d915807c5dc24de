"""Real OpenID Connect and CAS servers for the sign-in tests, each started in its own process on a
free port for the whole test session and stopped after it.

- OpenID Connect: npm `oidc-provider` (tests/oidc/server.mjs; `npm ci` in tests/oidc installs it).
- CAS: PyPI `django-cas-server` in a tiny Django project of its own (tests/cas_server/), with a
  SQLite database in a temporary folder.

Both know the same people: a portal login and password, and the claims or attributes the portal
holds about them. Test modules import the fixtures they use.
"""

import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node") or "/usr/bin/node"
STARTUP_SECONDS = 60

OIDC_CLIENT_ID = "learntrace"
OIDC_CLIENT_SECRET = "learntrace-test-client-secret"
OIDC_PUBLIC_CLIENT_ID = "learntrace-public"  # no secret: PKCE alone
PORTAL_PASSWORD = "portal-password-1"

# login -> what the portal says about them; `E001` is the learner of the `org` fixture, `E002` the outsider.
PORTAL_PEOPLE = {
    "learner": {"sub": "portal-0001", "employee_no": "E001", "email": "learner@hospital.test",
                "preferred_username": "E001", "name": "Learner in cardiology"},
    "outsider": {"sub": "portal-0002", "employee_no": "E002", "email": "outsider@hospital.test",
                 "preferred_username": "E002", "name": "Outsider in surgery"},
    "stranger": {"sub": "portal-0999", "employee_no": "X999", "email": "stranger@elsewhere.test",
                 "preferred_username": "X999", "name": "Not an employee"},
    "nameless": {"sub": "portal-0003", "name": "No employee number at the portal"},
}

# CAS user -> password and attributes: each person under their portal login, and those with an employee
# number under it too (most hospital portals name people by their employee number).
CAS_PEOPLE = {
    **{claims["employee_no"]: {"password": PORTAL_PASSWORD, "attributes": claims}
       for claims in PORTAL_PEOPLE.values() if "employee_no" in claims},
    **{login: {"password": PORTAL_PASSWORD, "attributes": claims} for login, claims in PORTAL_PEOPLE.items()},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_first_line(process: subprocess.Popen, what: str) -> str:
    """The line a server prints once it listens; fails the run (with its error output) otherwise."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if line:
                return line.decode().strip()
        if process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"{what} did not start: {process.stderr.read().decode()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    """A real OpenID Connect provider with a client registered for this test server (and for the test
    client's `testserver`), PKCE required."""
    if not (HERE / "oidc" / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("oidc-provider is not installed: run `npm ci` in tests/oidc (as .ci/run does)")
    callback = "/accounts/sso/oidc/callback/"
    config = {
        "port": 0,
        "clients": [{
            "client_id": OIDC_CLIENT_ID, "client_secret": OIDC_CLIENT_SECRET,
            "redirect_uris": [f"{live_server.url}{callback}", f"http://testserver{callback}"],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }, {
            "client_id": OIDC_PUBLIC_CLIENT_ID,
            "redirect_uris": [f"{live_server.url}{callback}", f"http://testserver{callback}"],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }],
        "accounts": {login: {"password": PORTAL_PASSWORD, "claims": claims} for login, claims in PORTAL_PEOPLE.items()},
    }
    process = subprocess.Popen([NODE, "server.mjs", json.dumps(config)], cwd=HERE / "oidc",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        issuer = json.loads(read_first_line(process, "the OpenID Connect provider"))["issuer"]
        yield SimpleNamespace(issuer=issuer, client_id=OIDC_CLIENT_ID, client_secret=OIDC_CLIENT_SECRET)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def cas_server(live_server):
    """A real CAS server (django-cas-server) that accepts this test server (and the test client's
    `testserver`) as a service and releases every person's attributes to it."""
    folder = Path(tempfile.mkdtemp(prefix="learntrace-cas-"))
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "cas_server_project.settings",
                   "PYTHONPATH": str(HERE / "cas_server"), "CAS_TEST_DATA": str(folder),
                   "CAS_TEST_SERVICES": json.dumps([live_server.url, "http://testserver"]),
                   "CAS_TEST_PEOPLE": json.dumps(CAS_PEOPLE)}
    for name in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        environment.pop(name, None)
    subprocess.run([sys.executable, "-m", "cas_server_project.prepare"], env=environment, check=True,
                   capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "cas_server_project.serve", str(port)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_first_line(process, "the CAS server")
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/cas")
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
