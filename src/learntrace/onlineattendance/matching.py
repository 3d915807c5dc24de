"""Finding the employee behind a participant of an online meeting.

In order of certainty: the employee number (Feishu exports it), the platform's user id (the one
the directory sync keeps), the mobile, the e-mail; then the name with the department; a name alone,
or a name several people share, only proposes candidates for the admin to choose from."""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from learntrace.onlineattendance.models import Participant, Platform
from learntrace.org.models import Employee

# The Employee field that holds each platform's user id (Tencent Meeting's enterprise accounts are
# those of WeCom; Zoom has none of ours).
USER_ID_FIELDS = {Platform.DINGTALK: "dingtalk_user_id", Platform.FEISHU: "feishu_user_id",
                  Platform.TENCENT: "wecom_user_id"}
# "Li Lei (李雷)": Zoom shows the name given at joining, with the account's name in brackets.
ORIGINAL_NAME = re.compile(r"^(?P<shown>.*?)\s*[(（](?P<original>[^()（）]+)[)）]$")


def mobile_key(value: str) -> str:
    """Digits of a mobile without China's country code; "" when masked (Feishu shows 138****8000)."""
    if "*" in value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= 7 else ""


def names_of(name: str) -> list[str]:
    name = name.strip()
    found = ORIGINAL_NAME.match(name)
    return [found["original"].strip(), found["shown"].strip(), name] if found else [name]


@dataclass
class Verdict:
    match: str
    employee: Employee | None = None
    matched_by: str = ""
    candidates: list[Employee] = field(default_factory=list)


class Directory:
    """The active employees, indexed once per import."""

    def __init__(self, platform: str):
        self.user_id_field = USER_ID_FIELDS.get(platform)
        self.by_number: dict[str, Employee] = {}
        self.by_user_id: dict[str, list[Employee]] = defaultdict(list)
        self.by_mobile: dict[str, list[Employee]] = defaultdict(list)
        self.by_email: dict[str, list[Employee]] = defaultdict(list)
        self.by_name: dict[str, list[Employee]] = defaultdict(list)
        for employee in Employee.objects.filter(is_active=True).select_related("department"):
            self.by_number[employee.employee_no.lower()] = employee
            if self.user_id_field and getattr(employee, self.user_id_field):
                self.by_user_id[getattr(employee, self.user_id_field)].append(employee)
            if mobile_key(employee.mobile):
                self.by_mobile[mobile_key(employee.mobile)].append(employee)
            if employee.email:
                self.by_email[employee.email.lower()].append(employee)
            self.by_name[employee.name.strip()].append(employee)

    def judge(self, *, employee_no="", platform_user_id="", mobile="", email="", name="", department="") -> Verdict:
        if employee_no and employee_no.lower() in self.by_number:
            return Verdict(Participant.Match.MATCHED, self.by_number[employee_no.lower()], "employee_no")
        for how, index, key in (("user_id", self.by_user_id, platform_user_id), ("mobile", self.by_mobile,
                                mobile_key(mobile)), ("email", self.by_email, email.lower())):
            if key and len(index.get(key, [])) == 1:
                return Verdict(Participant.Match.MATCHED, index[key][0], how)
        candidates: list[Employee] = []
        for each in names_of(name):
            candidates = self.by_name.get(each, [])
            if candidates:
                break
        if department and candidates:
            wanted = department.strip()
            in_department = [e for e in candidates if e.department.name == wanted or e.department.code == wanted]
            if len(in_department) == 1:
                return Verdict(Participant.Match.MATCHED, in_department[0], "name_department")
        if candidates:
            return Verdict(Participant.Match.AMBIGUOUS, candidates=candidates[:20])
        return Verdict(Participant.Match.UNMATCHED)
