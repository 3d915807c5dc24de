"""WeCom contacts (通讯录): the department list, each department's members, one member or department by
id. Read with the contact-sync secret when one is configured (WeCom gives it the whole organisation),
else with the sign-in app's secret; the token is cached like the sign-in's."""

from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from learntrace.directory.sources import DirectoryDepartment, Source
from learntrace.platforms.base import PlatformError, StaleToken, call, part, rejected, seconds, text, with_app_token
from learntrace.platforms.wecom import STALE_TOKEN

NOT_FOUND = (60111, 60123, 46004)  # no such member, no such department, the member does not exist
LEFT = (2, 5)  # a member's status: 2 disabled, 5 left the organisation


class WeComContacts(Source):
    name = "wecom"
    label = _("WeCom")
    user_field = "wecom_user_id"
    department_columns = {"code": "id", "name": "name", "parent_code": "parentid"}
    employee_columns = {"employee_no": "userid", "name": "name", "department_code": "main_department",
                        "position": "position", "email": "email", "mobile": "mobile", "wecom_user_id": "userid",
                        "active": "status"}

    def configured(self) -> bool:
        return bool(settings.WECOM_CORP_ID and (settings.WECOM_CONTACT_SECRET or settings.WECOM_SECRET))

    def _secret(self) -> str:
        return settings.WECOM_CONTACT_SECRET or settings.WECOM_SECRET

    def _get(self, step: str, path: str, params: dict, *, missing_ok: bool = False) -> dict | None:
        def use(token: str) -> dict | None:
            answer = call("wecom", step, "GET", f"{settings.WECOM_API_URL}{path}",
                          params={"access_token": token, **params})
            errcode = answer.get("errcode")
            if errcode in STALE_TOKEN:
                raise StaleToken
            if missing_ok and errcode in NOT_FOUND:
                return None
            if errcode != 0:
                raise rejected("wecom", step, f"{errcode} {answer.get('errmsg', '')}")
            return answer

        identity = (settings.WECOM_API_URL, settings.WECOM_CORP_ID, self._secret())
        try:
            return with_app_token("wecom", identity, self._app_token, use)
        except PlatformError as error:
            raise self.failed(error) from None

    def _app_token(self) -> tuple[str, int]:
        answer = call("wecom", "contact access token", "GET", f"{settings.WECOM_API_URL}/cgi-bin/gettoken",
                      params={"corpid": settings.WECOM_CORP_ID, "corpsecret": self._secret()})
        token = text(answer.get("access_token"))
        if answer.get("errcode") != 0 or not token:
            raise rejected("wecom", "contact access token", f"{answer.get('errcode')} {answer.get('errmsg', '')}")
        return token, seconds(answer.get("expires_in"))

    def departments(self) -> Iterator[DirectoryDepartment]:
        answer = self._get("departments", "/cgi-bin/department/list", {})
        found = [d for d in (_department(item) for item in answer.get("department") or [] if isinstance(item, dict))
                 if d is not None]
        yield from _parents_first(found)

    def department(self, department_id: str) -> DirectoryDepartment | None:
        if not str(department_id).isdigit():
            return None
        answer = self._get("department", "/cgi-bin/department/get", {"id": department_id}, missing_ok=True)
        return None if answer is None else _department(part(answer, "department"))

    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        seen: set[str] = set()
        for department in departments:
            answer = self._get("people", "/cgi-bin/user/list", {"department_id": department.id, "fetch_child": 0})
            for user in answer.get("userlist") or []:
                user_id = text(user.get("userid"), longest=128) if isinstance(user, dict) else ""
                if user_id and user_id not in seen:
                    seen.add(user_id)
                    yield self._row(user)

    def person(self, user_id: str) -> dict | None:
        answer = self._get("person", "/cgi-bin/user/get", {"userid": user_id}, missing_ok=True)
        return None if answer is None else self._row(answer)

    def _row(self, user: dict) -> dict:
        user_id = text(user.get("userid"), longest=128)
        department = text(user.get("main_department"), longest=64)
        if not department and isinstance(user.get("department"), list) and user["department"]:
            department = text(user["department"][0], longest=64)
        status = user.get("status")
        return self.employee_row({
            "employee_no": user_id,
            "name": text(user.get("name")),
            "department_code": self.code(department) if department else "",
            "position": text(user.get("position")),
            # WeCom leaves mobile and e-mail empty for apps that may not read them: kept as they are.
            "email": text(user.get("email")) or text(user.get("biz_mail")),
            "mobile": text(user.get("mobile")),
            "wecom_user_id": user_id,
            "active": "" if status is None else ("0" if status in LEFT else "1"),
        })


def _department(item: dict) -> DirectoryDepartment | None:
    department_id = text(item.get("id"), longest=64)
    if not department_id:
        return None
    parent = text(item.get("parentid"), longest=64)
    return DirectoryDepartment(department_id, text(item.get("name")), "" if parent in ("", "0") else parent)


def _parents_first(departments: list[DirectoryDepartment]) -> Iterator[DirectoryDepartment]:
    # WeCom lists departments by its own order; the import wants parents before children.
    children: dict[str, list[DirectoryDepartment]] = {}
    ids = {d.id for d in departments}
    for department in departments:
        if department.parent_id not in ids:  # the top of what the app may see
            department.parent_id = ""
        children.setdefault(department.parent_id, []).append(department)
    waiting = list(children.get("", []))
    while waiting:
        department = waiting.pop(0)
        yield department
        waiting.extend(children.get(department.id, []))
