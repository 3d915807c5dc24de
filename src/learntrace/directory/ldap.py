"""LDAP / Active Directory: departments are the organizational units below the base DN (their `ou` is
the id, the unit above them the parent), people the entries the user filter finds, each in the unit
that holds it. Read with ldap3 in pages, so a large directory is never held in memory at once."""

from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.directory.sources import DirectoryDepartment, DirectoryError, Source

PAGE_SIZE = 500
TIMEOUT_SECONDS = 30
PERSON_ATTRIBUTES = ["uid", "employeeNumber", "cn", "displayName", "title", "mail", "mobile"]


def _dn_parts(dn: str) -> list[str]:
    """A DN's components as "attribute=value", lowercase, so two spellings of one DN compare equal."""
    from ldap3.utils.dn import parse_dn

    return [f"{attribute.strip()}={value.strip()}".lower() for attribute, value, _separator in parse_dn(dn)]


def _parent(dn: str) -> str:
    return ",".join(_dn_parts(dn)[1:])


def _value(entry: dict, name: str) -> str:
    value = entry.get("attributes", {}).get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip() if value not in (None, b"") else ""


class LdapDirectory(Source):
    name = "ldap"
    label = gettext_lazy("LDAP")
    department_columns = {"code": "ou", "name": "description", "parent_code": "ou"}
    employee_columns = {"employee_no": "employeeNumber", "name": "displayName", "department_code": "ou",
                        "position": "title", "email": "mail", "mobile": "mobile"}

    def configured(self) -> bool:
        return bool(settings.DIRECTORY_LDAP_URL and settings.DIRECTORY_LDAP_BASE_DN)

    def _search(self, search_filter: str, attributes: list[str]) -> Iterator[dict]:
        import ldap3
        from ldap3.core.exceptions import LDAPException

        try:
            server = ldap3.Server(settings.DIRECTORY_LDAP_URL, connect_timeout=TIMEOUT_SECONDS)
            connection = ldap3.Connection(server, user=settings.DIRECTORY_LDAP_BIND_DN or None,
                                          password=settings.DIRECTORY_LDAP_BIND_PASSWORD or None,
                                          receive_timeout=TIMEOUT_SECONDS, raise_exceptions=True)
            connection.bind()
        except LDAPException as exc:
            raise DirectoryError(_("The LDAP server refused the directory sync's connection or bind: %(error)s")
                                 % {"error": type(exc).__name__}) from None
        try:
            yield from (entry for entry in connection.extend.standard.paged_search(
                settings.DIRECTORY_LDAP_BASE_DN, search_filter, attributes=attributes, paged_size=PAGE_SIZE,
                generator=True) if entry.get("type") == "searchResEntry")
        except LDAPException as exc:
            raise DirectoryError(_("The LDAP search failed: %(error)s") % {"error": type(exc).__name__}) from None
        finally:
            connection.unbind()

    def _units(self) -> dict[str, DirectoryDepartment]:
        """Organizational units by their DN (lowercase)."""
        units: dict[str, tuple[str, str]] = {}
        for entry in self._search(settings.DIRECTORY_LDAP_DEPARTMENT_FILTER, ["ou", "description"]):
            ou = _value(entry, "ou")
            if ou:
                units[",".join(_dn_parts(entry["dn"]))] = (ou, _value(entry, "description") or ou)
        found = {}
        for dn, (ou, name) in units.items():
            parent = units.get(_parent(dn))
            found[dn] = DirectoryDepartment(ou, name, parent[0] if parent else "")
        return found

    def departments(self) -> Iterator[DirectoryDepartment]:
        units = self._units()
        # Parents first: fewer parts in the DN means higher in the tree.
        for dn in sorted(units, key=lambda dn: len(_dn_parts(dn))):
            yield units[dn]

    def department(self, department_id: str) -> DirectoryDepartment | None:
        return next((d for d in self._units().values() if d.id == department_id), None)

    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        units = self._units()  # by DN, which the departments do not keep
        for entry in self._search(settings.DIRECTORY_LDAP_USER_FILTER, PERSON_ATTRIBUTES):
            yield self._row(entry, units)

    def person(self, user_id: str) -> dict | None:
        from ldap3.utils.conv import escape_filter_chars

        search = f"(&{settings.DIRECTORY_LDAP_USER_FILTER}(uid={escape_filter_chars(user_id)}))"
        entry = next(self._search(search, PERSON_ATTRIBUTES), None)
        return None if entry is None else self._row(entry, self._units())

    def _row(self, entry: dict, units: dict[str, DirectoryDepartment]) -> dict:
        unit = units.get(_parent(entry["dn"]))
        number = _value(entry, "uid") if self.use_user_id_as_number() else _value(entry, "employeeNumber")
        return self.employee_row({
            "employee_no": number,
            "name": _value(entry, "displayName") or _value(entry, "cn"),
            "department_code": self.code(unit.id) if unit else "",
            "position": _value(entry, "title"),
            "email": _value(entry, "mail"),
            "mobile": _value(entry, "mobile"),
        })
