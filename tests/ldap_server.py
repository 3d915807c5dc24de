"""A real OpenLDAP server (Debian's slapd) for the tests: a private configuration and database in a
temporary folder, listening on a free local port, loaded with a few people by ldapadd."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=hospital,dc=example"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "directory-admin-secret"
PEOPLE = f"ou=people,{SUFFIX}"

# (uid, employeeNumber, password): li.ming is the learner E001, nurse.wang the outsider E002,
# ghost is in the directory but not in learntrace; H001's uid is its employee number.
USERS = [
    ("li.ming", "E001", "ldap-pass-li"),
    ("nurse.wang", "E002", "ldap-pass-wang"),
    ("ghost", "X999", "ldap-pass-ghost"),
    ("H001", "H001", "ldap-pass-head"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(folder: Path) -> str:
    schemas = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson"))
    return f"""{schemas}
pidfile {folder}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {folder}/data
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
"""


def _entries() -> str:
    entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: Hospital\n",
               f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n"]
    for uid, number, password in USERS:
        entries.append(f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
                       f"employeeNumber: {number}\nuserPassword: {password}\n")
    return "\n".join(entries)


class LdapServer:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="learntrace-slapd-"))
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        (self.folder / "data").mkdir()
        (self.folder / "slapd.conf").write_text(_config(self.folder))
        # -d keeps slapd in the foreground (no fork), so the fixture owns the process and stops it.
        self.process = subprocess.Popen([SLAPD, "-f", str(self.folder / "slapd.conf"), "-h", f"{self.uri}/",
                                         "-d", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if self.process.poll() is not None:
                raise RuntimeError("slapd did not start")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        subprocess.run(["ldapadd", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
                       input=_entries(), text=True, check=True, capture_output=True)
        return self

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------- for the directory sync's tests

SYNC_BASE = f"ou=sync,{SUFFIX}"  # the sync tests' own subtree: the sign-in tests' people are left alone


def admin_connection(server: LdapServer):
    import ldap

    connection = ldap.initialize(server.uri)
    connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
    return connection


def add(server: LdapServer, dn: str, classes: list[str], attributes: dict) -> None:
    import ldap.modlist

    entry = {"objectClass": [c.encode() for c in classes],
             **{name: [str(value).encode()] for name, value in attributes.items()}}
    connection = admin_connection(server)
    try:
        connection.add_s(dn, ldap.modlist.addModlist(entry))
    finally:
        connection.unbind_s()


def delete_tree(server: LdapServer, base: str) -> None:
    """Remove `base` and everything below it, deepest entries first; nothing there is fine."""
    import ldap

    connection = admin_connection(server)
    try:
        try:
            found = connection.search_s(base, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
        except ldap.NO_SUCH_OBJECT:
            return
        for dn, _attributes in sorted(found, key=lambda entry: -entry[0].count(",")):
            connection.delete_s(dn)
    finally:
        connection.unbind_s()
