"""A real OpenLDAP server (Debian's slapd) for the tests: started on a free port with a throwaway
configuration and database, stopped at the end of the session. `ldap_server` is the session fixture;
tests add and remove entries with `entries` (ldap3, as the application's client is)."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
BASE_DN = "dc=hospital,dc=test"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "slapd-test-password"


class LdapServer:
    def __init__(self, folder: Path):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        (self.folder / "db").mkdir()
        config = self.folder / "slapd.conf"
        config.write_text("\n".join([
            *(f"include {SCHEMAS / name}" for name in ("core.schema", "cosine.schema", "inetorgperson.schema")),
            f"pidfile {self.folder / 'slapd.pid'}",
            f"modulepath {MODULES}",
            "moduleload back_mdb",
            "database mdb",
            "maxsize 104857600",
            f'suffix "{BASE_DN}"',
            f'rootdn "{ADMIN_DN}"',
            f"rootpw {ADMIN_PASSWORD}",
            f"directory {self.folder / 'db'}",
            "",
        ]))
        self.process = subprocess.Popen([SLAPD, "-d", "0", "-f", str(config), "-h", self.url],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _attempt in range(100):
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd did not start: {self.process.stderr.read().decode()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        self.add(BASE_DN, ["dcObject", "organization"], {"dc": "hospital", "o": "Hospital"})
        return self

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def connection(self):
        import ldap3

        connection = ldap3.Connection(ldap3.Server(self.url), user=ADMIN_DN, password=ADMIN_PASSWORD,
                                      raise_exceptions=True)
        connection.bind()
        return connection

    def add(self, dn: str, classes: list[str], attributes: dict) -> None:
        connection = self.connection()
        try:
            connection.add(dn, classes, attributes)
        finally:
            connection.unbind()

    def clear(self) -> None:
        """Remove everything below the base, deepest entries first."""
        import ldap3

        connection = self.connection()
        try:
            connection.search(BASE_DN, "(objectClass=*)", search_scope=ldap3.SUBTREE, attributes=[])
            for dn in sorted((e.entry_dn for e in connection.entries if e.entry_dn.lower() != BASE_DN),
                             key=lambda dn: -dn.count(",")):
                connection.delete(dn)
        finally:
            connection.unbind()


@pytest.fixture(scope="session")
def ldap_server():
    if not Path(SLAPD).exists():
        pytest.skip("slapd is not installed (apt-get install slapd)")
    folder = Path(tempfile.mkdtemp(prefix="learntrace-slapd-"))
    server = LdapServer(folder).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
