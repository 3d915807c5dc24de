"""LDAP / Active Directory: departments are the organizational units at and below the base DN (their
`ou` is the id, `description` the name, the unit above them the parent), people the entries the user
filter finds, each in the unit that holds it. Read with python-ldap (OpenLDAP's client) in pages of
the simple paged results control, so a large directory is never held in memory at once."""

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
    import ldap.dn

    return ["+".join(f"{attribute.strip()}={value.strip()}".lower() for attribute, value, _flags in rdn)
            for rdn in ldap.dn.str2dn(dn)]


def _parent(dn: str) -> str:
    return ",".join(_dn_parts(dn)[1:])


def _value(attributes: dict, name: str) -> str:
    values = attributes.get(name) or [b""]
    return values[0].decode("utf-8", "replace").strip()


class LdapDirectory(Source):
    name = "ldap"
    label = gettext_lazy("LDAP")
    department_columns = {"code": "ou", "name": "description", "parent_code": "ou"}
    employee_columns = {"employee_no": "employeeNumber", "name": "displayName", "department_code": "ou",
                        "position": "title", "email": "mail", "mobile": "mobile"}

    def configured(self) -> bool:
        return bool(settings.DIRECTORY_LDAP_URL and settings.DIRECTORY_LDAP_BASE_DN)

    def _search(self, search_filter: str, attributes: list[str]) -> Iterator[tuple[str, dict]]:
        import ldap
        from ldap.controls import SimplePagedResultsControl

        try:
            connection = ldap.initialize(settings.DIRECTORY_LDAP_URL)
            connection.set_option(ldap.OPT_REFERRALS, 0)
            connection.set_option(ldap.OPT_NETWORK_TIMEOUT, TIMEOUT_SECONDS)
            connection.set_option(ldap.OPT_TIMEOUT, TIMEOUT_SECONDS)
            connection.simple_bind_s(settings.DIRECTORY_LDAP_BIND_DN, settings.DIRECTORY_LDAP_BIND_PASSWORD)
        except ldap.LDAPError as exc:
            raise DirectoryError(_("The LDAP server refused the directory sync's connection or bind: %(error)s")
                                 % {"error": type(exc).__name__}) from None
        try:
            paging = SimplePagedResultsControl(True, size=PAGE_SIZE, cookie="")
            while True:
                message = connection.search_ext(settings.DIRECTORY_LDAP_BASE_DN, ldap.SCOPE_SUBTREE, search_filter,
                                                attributes, serverctrls=[paging])
                _kind, entries, _message, controls = connection.result3(message)
                for dn, found in entries:
                    if dn:  # references to other servers have none
                        yield dn, found
                paging.cookie = next((c.cookie for c in controls
                                      if c.controlType == SimplePagedResultsControl.controlType), b"")
                if not paging.cookie:
                    return
        except ldap.LDAPError as exc:
            raise DirectoryError(_("The LDAP search failed: %(error)s") % {"error": type(exc).__name__}) from None
        finally:
            connection.unbind_s()

    def _units(self) -> dict[str, DirectoryDepartment]:
        """Organizational units by their DN (normalised)."""
        units: dict[str, tuple[str, str]] = {}
        for dn, found in self._search(settings.DIRECTORY_LDAP_DEPARTMENT_FILTER, ["ou", "description"]):
            ou = _value(found, "ou")
            if ou:
                units[",".join(_dn_parts(dn))] = (ou, _value(found, "description") or ou)
        departments = {}
        for dn, (ou, name) in units.items():
            parent = units.get(_parent(dn))
            departments[dn] = DirectoryDepartment(ou, name, parent[0] if parent else "")
        return departments

    def departments(self) -> Iterator[DirectoryDepartment]:
        units = self._units()
        # Parents first: fewer parts in the DN means higher in the tree.
        for dn in sorted(units, key=lambda dn: dn.count(",")):
            yield units[dn]

    def department(self, department_id: str) -> DirectoryDepartment | None:
        return next((d for d in self._units().values() if d.id == department_id), None)

    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        units = self._units()  # by DN, which the departments do not keep
        for dn, found in self._search(settings.DIRECTORY_LDAP_USER_FILTER, PERSON_ATTRIBUTES):
            yield self._row(dn, found, units)

    def person(self, user_id: str) -> dict | None:
        from ldap.filter import escape_filter_chars

        search = f"(&{settings.DIRECTORY_LDAP_USER_FILTER}(uid={escape_filter_chars(user_id)}))"
        found = next(self._search(search, PERSON_ATTRIBUTES), None)
        return None if found is None else self._row(*found, self._units())

    def _row(self, dn: str, found: dict, units: dict[str, DirectoryDepartment]) -> dict:
        unit = units.get(_parent(dn))
        number = _value(found, "uid") if self.use_user_id_as_number() else _value(found, "employeeNumber")
        return self.employee_row({
            "employee_no": number,
            "name": _value(found, "displayName") or _value(found, "cn"),
            "department_code": self.code(unit.id) if unit else "",
            "position": _value(found, "title"),
            "email": _value(found, "mail"),
            "mobile": _value(found, "mobile"),
        })
