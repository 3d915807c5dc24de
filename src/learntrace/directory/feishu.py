"""Feishu contacts (通讯录): departments below the root ("0") with Feishu's page tokens, the people of
each department, one person or department by id. Read with the app's tenant access token (the sign-in
app's id and secret), cached like the other platforms' app tokens."""

from collections.abc import Iterator
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from learntrace.directory.sources import DirectoryDepartment, Source, first
from learntrace.org.models import Department
from learntrace.platforms.base import PlatformError, StaleToken, call, part, rejected, seconds, text, with_app_token

ROOT = "0"
ROOT_NAME = "Feishu"  # the root has no name of its own in Feishu; an admin may rename it here
PAGE_SIZE = 50  # the most Feishu's contact lists return at once
STALE_TOKEN = (99991661, 99991663, 99991664, 99991665)  # missing, invalid or expired tenant token
NOT_FOUND = (40003, 41050, 40013, 1205)  # no such user or department, or outside the app's range
IDS = {"user_id_type": "user_id", "department_id_type": "department_id"}


class FeishuContacts(Source):
    name = "feishu"
    label = _("Feishu")
    user_field = "feishu_user_id"
    department_columns = {"code": "department_id", "name": "name", "parent_code": "parent_department_id"}
    employee_columns = {"employee_no": "employee_no", "name": "name", "department_code": "department_ids",
                        "position": "job_title", "email": "email", "mobile": "mobile",
                        "feishu_user_id": "user_id", "active": "status"}

    def configured(self) -> bool:
        return bool(settings.FEISHU_APP_ID and settings.FEISHU_APP_SECRET)

    def _get(self, step: str, path: str, params: dict, *, missing_ok: bool = False) -> dict | None:
        def use(token: str) -> dict | None:
            answer = call("feishu", step, "GET", f"{settings.FEISHU_API_URL}{path}", params=params,
                          headers={"Authorization": f"Bearer {token}"})
            code = answer.get("code")
            if code in STALE_TOKEN:
                raise StaleToken
            if missing_ok and code in NOT_FOUND:
                return None
            if code != 0:
                raise rejected("feishu", step, f"{code} {answer.get('msg', '')}")
            return part(answer, "data")

        identity = (settings.FEISHU_API_URL, settings.FEISHU_APP_ID, settings.FEISHU_APP_SECRET)
        try:
            return with_app_token("feishu", identity, self._app_token, use)
        except PlatformError as error:
            raise self.failed(error) from None

    def _app_token(self) -> tuple[str, int]:
        answer = call("feishu", "tenant access token", "POST",
                      f"{settings.FEISHU_API_URL}/open-apis/auth/v3/tenant_access_token/internal",
                      json={"app_id": settings.FEISHU_APP_ID, "app_secret": settings.FEISHU_APP_SECRET})
        token = text(answer.get("tenant_access_token"))
        if answer.get("code") != 0 or not token:
            raise rejected("feishu", "tenant access token", f"{answer.get('code')} {answer.get('msg', '')}")
        return token, seconds(answer.get("expire"))

    def _pages(self, step: str, path: str, params: dict) -> Iterator[dict]:
        page_token, seen = "", set()
        while True:
            data = self._get(step, path, {**params, **IDS, "page_size": PAGE_SIZE,
                                          **({"page_token": page_token} if page_token else {})})
            for item in data.get("items") or []:
                if isinstance(item, dict):
                    yield item
            page_token = text(data.get("page_token"))
            if not data.get("has_more") or not page_token:
                return
            if page_token in seen:
                raise self.endless()
            seen.add(page_token)

    def _root(self) -> DirectoryDepartment:
        # Named only when it is new: an admin's name for it is kept.
        exists = Department.objects.filter(code=self.code(ROOT)).exists()
        return DirectoryDepartment(ROOT, "" if exists else ROOT_NAME, "")

    def department_row(self, department: DirectoryDepartment) -> dict:
        row = super().department_row(department)
        if not row["name"]:
            del row["name"]
        return row

    def departments(self) -> Iterator[DirectoryDepartment]:
        yield self._root()
        for item in self._pages("departments", f"/open-apis/contact/v3/departments/{ROOT}/children",
                                {"fetch_child": "true"}):
            department = _department(item)
            if department is not None:
                yield department

    def department(self, department_id: str) -> DirectoryDepartment | None:
        if department_id == ROOT:
            return self._root()
        if not department_id:
            return None
        data = self._get("department", f"/open-apis/contact/v3/departments/{quote(department_id, safe='')}", IDS,
                         missing_ok=True)
        return None if data is None else _department(part(data, "department"))

    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        seen: set[str] = set()
        for department in departments:
            for user in self._pages("people", "/open-apis/contact/v3/users/find_by_department",
                                    {"department_id": department.id}):
                user_id = text(user.get("user_id"), longest=128)
                if user_id and user_id not in seen:
                    seen.add(user_id)
                    yield self._row(user)

    def person(self, user_id: str) -> dict | None:
        if not user_id:
            return None
        data = self._get("person", f"/open-apis/contact/v3/users/{quote(user_id, safe='')}", IDS, missing_ok=True)
        return None if data is None else self._row(part(data, "user"))

    def _row(self, user: dict) -> dict:
        user_id = text(user.get("user_id"), longest=128)
        department = first(user.get("department_ids")) or ROOT
        status = part(user, "status")
        return self.employee_row({
            "employee_no": user_id if self.use_user_id_as_number() else text(user.get("employee_no")),
            "name": text(user.get("name")),
            "department_code": self.code(department),
            "position": text(user.get("job_title")),
            "email": text(user.get("email")) or text(user.get("enterprise_email")),
            "mobile": text(user.get("mobile")),
            "feishu_user_id": user_id,
            "active": ("0" if status.get("is_resigned") or status.get("is_frozen") else "1") if status else "",
        })


def _department(item: dict) -> DirectoryDepartment | None:
    department_id = text(item.get("department_id"), longest=64)
    if not department_id or part(item, "status").get("is_deleted"):
        return None
    parent = text(item.get("parent_department_id"), longest=64) or ROOT
    return DirectoryDepartment(department_id, text(item.get("name")), parent)
