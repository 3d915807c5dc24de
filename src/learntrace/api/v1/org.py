"""Organisation: read departments and employees; upsert them by code and employee number."""

import datetime as dt
from typing import Annotated

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from learntrace.api.org_upsert import MAX_ROWS, JsonOrgImport, field_errors
from learntrace.api.v1.auth import need, need_admin
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut, invalid
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import Key, Text
from learntrace.org.access import visible_departments, visible_employees
from learntrace.org.models import Level

router = Router(tags=["organisation"])


class DepartmentOut(Schema):
    code: str
    name: str
    parent_code: str | None
    active: bool
    updated_at: dt.datetime


class EmployeeOut(Schema):
    employee_no: str
    name: str
    department_code: str
    position: str
    level: str
    tags: list[str]
    email: str
    mobile: str
    dingtalk_user_id: str = Field(description="The person's user id in DingTalk, as written; empty if none.")
    wecom_user_id: str = Field(description="The person's user id in WeCom (企业微信); empty if none.")
    feishu_user_id: str = Field(description="The person's user id in Feishu (飞书); empty if none.")
    hire_date: dt.date | None
    active: bool
    updated_at: dt.datetime


class EmployeePage(Schema):
    items: list[EmployeeOut]
    next_cursor: str | None


class DepartmentIn(Schema):
    code: Key
    name: Text | None = None
    parent_code: Text | None = Field(None, description="Empty for a top-level department.")


class EmployeeIn(Schema):
    employee_no: Key
    name: Text | None = None
    department_code: Text | None = None
    position: Text | None = None
    level: Level | None = None
    tags: list[Annotated[str, Field(max_length=100, pattern=r"^[^\x00,]*$")]] | None = Field(None, max_length=100)
    email: Text | None = None
    mobile: Text | None = None
    dingtalk_user_id: Text | None = None
    wecom_user_id: Text | None = None
    feishu_user_id: Text | None = None
    hire_date: dt.date | None = None
    active: bool | None = None
    national_id: Text | None = Field(None, description="Write-only: stored encrypted, never returned.")


class DepartmentsIn(Schema):
    departments: list[DepartmentIn] = Field(min_length=1, max_length=MAX_ROWS)


class EmployeesIn(Schema):
    employees: list[EmployeeIn] = Field(min_length=1, max_length=MAX_ROWS)


class UpsertOut(Schema):
    dry_run: bool
    counts: dict[str, int]


def department_out(department) -> dict:
    return {"code": department.code, "name": department.name,
            "parent_code": department.parent.code if department.parent_id else None,
            "active": department.is_active, "updated_at": department.updated_at}


def employee_out(employee) -> dict:
    return {"employee_no": employee.employee_no, "name": employee.name, "department_code": employee.department.code,
            "position": employee.position, "level": employee.level, "tags": employee.tag_list,
            "email": employee.email, "mobile": employee.mobile, "dingtalk_user_id": employee.dingtalk_user_id,
            "wecom_user_id": employee.wecom_user_id, "feishu_user_id": employee.feishu_user_id,
            "hire_date": employee.hire_date,
            "active": employee.is_active, "updated_at": employee.updated_at}


@router.get("/departments", response={200: list[DepartmentOut], ERROR_STATUSES: ErrorOut},
            summary="Departments the caller may read")
def departments(request):
    need(request, "org:read")
    return [department_out(d) for d in visible_departments(request.user).select_related("parent")]


@router.get("/employees", response={200: EmployeePage, ERROR_STATUSES: ErrorOut},
            summary="Employees the caller may read, by cursor")
def employees(request, page: Query[PageParams], department: Key | None = None):
    need(request, "org:read")
    people = visible_employees(request.user)
    if department:
        people = people.filter(department__code=department)
    items, next_cursor = paginate(people, "updated_at", page)
    return {"items": [employee_out(e) for e in items], "next_cursor": next_cursor}


@router.get("/employees/{employee_no}", response={200: EmployeeOut, ERROR_STATUSES: ErrorOut},
            summary="One employee by employee number")
def employee(request, employee_no: Key):
    need(request, "org:read")
    return employee_out(get_object_or_404(visible_employees(request.user), employee_no=employee_no))


def _apply(request, importer: JsonOrgImport, dry_run: bool) -> dict:
    result = importer.dry_run() if dry_run else importer.apply(actor=request.user)
    if not result.ok:
        raise invalid(field_errors(result), _("Nothing was written: %(count)d value(s) are not valid.")
                      % {"count": result.error_count})
    return {"dry_run": dry_run, "counts": result.counts}


@router.put("/departments", response={200: UpsertOut, ERROR_STATUSES: ErrorOut},
            summary="Create or update departments by code (all or nothing)")
def upsert_departments(request, payload: DepartmentsIn, dry_run: bool = False):
    need_admin(request, "org:write")
    rows = [d.model_dump(exclude_unset=True) for d in payload.departments]
    with transaction.atomic():
        return _apply(request, JsonOrgImport(departments=rows), dry_run)


@router.put("/employees", response={200: UpsertOut, ERROR_STATUSES: ErrorOut},
            summary="Create or update employees by employee number (all or nothing)")
def upsert_employees(request, payload: EmployeesIn, dry_run: bool = False):
    need_admin(request, "org:write")
    rows = [e.model_dump(exclude_unset=True) for e in payload.employees]
    with transaction.atomic():
        return _apply(request, JsonOrgImport(employees=rows), dry_run)
