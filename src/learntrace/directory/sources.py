"""What every directory offers the sync: its departments (a tree of ids), its people, and one person
or one department by id (for change events). Each source turns its records into rows of the
organisation import's tables; a row holds only the fields the directory gave a value for, so the
import keeps whatever the directory does not provide.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from learntrace.platforms.base import PlatformError, text


class DirectoryError(Exception):
    """The directory could not be read; the message (translated) says why, for the admin."""


@dataclass
class DirectoryDepartment:
    id: str
    name: str
    parent_id: str  # "" at the top of the tree


class Source(ABC):
    name: str  # ImportBatch.Source
    label: str  # the platform's name, as the batch list shows it
    user_field: str = ""  # the Employee field holding this directory's user id
    # Row key -> the directory's field behind it, named in row errors.
    department_columns = {"code": "dept_id", "name": "name", "parent_code": "parent_id"}
    employee_columns: dict = {}

    @abstractmethod
    def configured(self) -> bool:
        """Whether the settings this source needs are all given."""

    @abstractmethod
    def departments(self) -> Iterator[DirectoryDepartment]:
        """Every department, parents before children."""

    @abstractmethod
    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        """Every person once, as an employee row; `departments` is what `departments()` gave."""

    @abstractmethod
    def person(self, user_id: str) -> dict | None:
        """One person as an employee row; None when the directory no longer has them."""

    @abstractmethod
    def department(self, department_id: str) -> DirectoryDepartment | None:
        """One department; None when the directory no longer has it."""

    # -- shared --
    def prefix(self) -> str:
        prefix = settings.DIRECTORY_DEPARTMENT_PREFIX
        return f"{self.name}-" if prefix is None else prefix

    def code(self, department_id) -> str:
        return f"{self.prefix()}{department_id}"

    def department_row(self, department: DirectoryDepartment) -> dict:
        row = {"code": self.code(department.id), "name": department.name}
        row["parent_code"] = self.code(department.parent_id) if department.parent_id else ""
        return row

    def employee_row(self, values: dict) -> dict:
        """An employee row of the values given: empty ones are left out (the import keeps the field)."""
        return {key: value for key, value in values.items() if value not in ("", None)}

    def failed(self, error: PlatformError) -> DirectoryError:
        return DirectoryError(_("%(source)s did not answer the directory sync: %(detail)s")
                              % {"source": self.label, "detail": error.detail or error.reason})

    def endless(self) -> DirectoryError:
        return DirectoryError(_("%(source)s answered pages that never end (the same page again, or a department "
                                "inside itself); the sync stopped and nothing was changed.")
                              % {"source": self.label})

    @staticmethod
    def use_user_id_as_number() -> bool:
        return settings.DIRECTORY_EMPLOYEE_NO == "userid"


def first(values) -> str:
    """The first id of a list the platform sent (a person's departments), or ""."""
    if isinstance(values, list) and values:
        return text(values[0], longest=128)
    return ""
