"""DingTalk contacts (通讯录): departments from the root (id 1) down, people department by department
with DingTalk's cursor, one person or department by id. Calls and the app token are the sign-in's."""

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from learntrace.directory.sources import DirectoryDepartment, Source, first
from learntrace.platforms.base import PlatformError, StaleToken, call, part, rejected, text, with_app_token
from learntrace.platforms.dingtalk import STALE_TOKEN, DingTalk

ROOT = "1"
PAGE_SIZE = 100  # the most DingTalk's user list returns at once
NOT_FOUND = (60003, 60121, 50004)  # no such department, no such user, outside the app's range


class DingTalkContacts(Source):
    name = "dingtalk"
    label = _("DingTalk")
    user_field = "dingtalk_user_id"
    employee_columns = {"employee_no": "job_number", "name": "name", "department_code": "dept_id_list",
                        "position": "title", "email": "email", "mobile": "mobile", "hire_date": "hired_date",
                        "dingtalk_user_id": "userid", "active": "userid"}

    def configured(self) -> bool:
        return DingTalk().configured()

    def _post(self, step: str, path: str, body: dict, *, missing_ok: bool = False) -> dict | None:
        def use(token: str) -> dict | None:
            answer = call("dingtalk", step, "POST", f"{settings.DINGTALK_OAPI_URL}{path}",
                          params={"access_token": token}, json=body)
            errcode = answer.get("errcode")
            if errcode in STALE_TOKEN:
                raise StaleToken
            if missing_ok and errcode in NOT_FOUND:
                return None
            if errcode != 0:
                raise rejected("dingtalk", step, f"{errcode} {answer.get('errmsg', '')}")
            return answer

        identity = (settings.DINGTALK_OAPI_URL, settings.DINGTALK_APP_KEY, settings.DINGTALK_APP_SECRET)
        try:
            return with_app_token("dingtalk", identity, DingTalk()._app_token, use)
        except PlatformError as error:
            raise self.failed(error) from None

    def department(self, department_id: str) -> DirectoryDepartment | None:
        answer = self._post("department", "/topapi/v2/department/get", {"dept_id": _id(department_id)},
                            missing_ok=True)
        return None if answer is None else _department(part(answer, "result"))

    def departments(self) -> Iterator[DirectoryDepartment]:
        root = self.department(ROOT)
        if root is None:
            return
        yield DirectoryDepartment(ROOT, root.name, "")
        waiting, seen = [ROOT], {ROOT}
        while waiting:
            parent = waiting.pop(0)
            answer = self._post("departments", "/topapi/v2/department/listsub", {"dept_id": _id(parent)})
            for item in answer.get("result") or []:
                department = _department(item) if isinstance(item, dict) else None
                if department is not None:
                    if department.id in seen:  # a tree that loops would be walked forever
                        raise self.endless()
                    seen.add(department.id)
                    yield department
                    waiting.append(department.id)

    def people(self, departments: list[DirectoryDepartment]) -> Iterator[dict]:
        seen: set[str] = set()  # a person in several departments is listed in each
        for department_id in (d.id for d in departments):
            cursor = 0
            while True:
                answer = self._post("people", "/topapi/v2/user/list",
                                    {"dept_id": _id(department_id), "cursor": cursor, "size": PAGE_SIZE})
                result = part(answer, "result")
                for user in result.get("list") or []:
                    user_id = text(user.get("userid"), longest=128) if isinstance(user, dict) else ""
                    if user_id and user_id not in seen:
                        seen.add(user_id)
                        yield self._row(user)
                if not result.get("has_more"):
                    break
                following = result.get("next_cursor")
                if isinstance(following, bool) or not isinstance(following, int) or following <= cursor:
                    raise self.endless()
                cursor = following

    def person(self, user_id: str) -> dict | None:
        answer = self._post("person", "/topapi/v2/user/get", {"userid": user_id}, missing_ok=True)
        return None if answer is None else self._row(part(answer, "result"))

    def _row(self, user: dict) -> dict:
        user_id = text(user.get("userid"), longest=128)
        department = first(user.get("dept_id_list"))
        return self.employee_row({
            "employee_no": user_id if self.use_user_id_as_number() else text(user.get("job_number")),
            "name": text(user.get("name")),
            "department_code": self.code(department) if department else "",
            "position": text(user.get("title")),
            "email": text(user.get("email")) or text(user.get("org_email")),
            "mobile": text(user.get("mobile")),
            "hire_date": _date(user.get("hired_date")),
            "dingtalk_user_id": user_id,
            "active": "1",  # everyone DingTalk lists belongs to the organisation
        })


def _id(department_id: str) -> int | str:
    # DingTalk's department ids are numbers; a DingTalk-like server (the demo's) may use the codes as ids.
    department_id = str(department_id)
    return int(department_id) if department_id.isdigit() else department_id


def _department(item: dict) -> DirectoryDepartment | None:
    department_id = text(item.get("dept_id"), longest=64)
    if not department_id:
        return None
    parent = text(item.get("parent_id"), longest=64)
    return DirectoryDepartment(department_id, text(item.get("name")), "" if department_id == ROOT else parent)


def _date(milliseconds) -> str:
    # DingTalk gives the hire date as a moment in milliseconds; the day is the one in China.
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int):
        return ""
    try:
        moment = dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.timezone(dt.timedelta(hours=8)))
    except (OverflowError, OSError, ValueError):
        return ""  # not a moment: the hire date is kept as it is
    return moment.date().isoformat()
