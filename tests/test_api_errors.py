"""What the API's refusals carry: every bad field of every row at once, the WWW-Authenticate
challenge of a 401 (RFC 6750), Retry-After on a 429 and both in the OpenAPI document, and the
platform ids an integrator writes read back."""

import datetime as dt

import time_machine
from django.test import Client

from learntrace.api.models import ApiToken
from learntrace.org.models import Employee
from test_api import call, token_for  # noqa: F401 - token_for is a fixture

BEARER = 'Bearer realm="learntrace"'


def raw(method, path, token=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(Client(), method)(f"/api/v1{path}", **headers, **extra)


def test_an_upsert_names_every_bad_field_of_every_row_at_once(org, token_for):  # noqa: F811
    secret = token_for(org.admin, scopes=["org:write"])
    status, body = call("put", "/employees", secret, {"employees": [
        {"employee_no": "N300", "name": "Fine", "department_code": "SURG"},
        {"employee_no": "N301", "name": "Several", "department_code": "NOPE", "email": "not-mail",
         "national_id": "110105194912310021"},
        {"employee_no": "N302", "email": "also-not-mail"},
    ]})
    assert status == 400 and body["error"]["code"] == "invalid"
    assert set(body["error"]["fields"]) == {
        "employees[1].department_code", "employees[1].email", "employees[1].national_id",
        "employees[2].email", "employees[2].name", "employees[2].department_code"}
    assert "NOPE" in body["error"]["fields"]["employees[1].department_code"]
    assert not Employee.objects.filter(employee_no__startswith="N30").exists()
    # Two errors of one field are both given.
    status, body = call("put", "/employees", secret, {"employees": [
        {"employee_no": "N303", "name": "Long", "department_code": "D" * 65}]})
    message = body["error"]["fields"]["employees[0].department_code"]
    assert "最多 64 个字符" in message and "未知部门" in message  # the deployment's language: no Accept-Language
    # The same on a dry run.
    status, dry = call("put", "/employees?dry_run=true", secret, {"employees": [
        {"employee_no": "E001", "department_code": "NOPE", "email": "x"}]})
    assert status == 400 and set(dry["error"]["fields"]) == {"employees[0].department_code", "employees[0].email"}


def test_a_department_upsert_names_a_missing_name_and_an_unknown_parent_together(org, token_for):  # noqa: F811
    secret = token_for(org.admin, scopes=["org:write"])
    status, body = call("put", "/departments", secret, {"departments": [{"code": "NEW", "parent_code": "NOPE"}]})
    assert status == 400
    assert set(body["error"]["fields"]) == {"departments[0].name", "departments[0].parent_code"}


def test_every_401_says_how_to_authenticate(org, token_for):  # noqa: F811
    response = raw("get", "/departments")
    assert response.status_code == 401 and response["WWW-Authenticate"] == BEARER
    response = raw("get", "/departments", "lt_nothing_like_a_token")
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == f'{BEARER}, error="invalid_token"'
    secret = token_for(org.admin)
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    response = raw("get", "/departments", secret)
    assert response.json()["error"]["code"] == "token_revoked"
    assert response["WWW-Authenticate"] == f'{BEARER}, error="invalid_token"'
    # A unknown path without a token is still a 404, and a good token gets no challenge.
    assert not raw("get", "/no-such-thing").has_header("WWW-Authenticate")


def test_a_missing_scope_names_the_scope_needed(org, token_for):  # noqa: F811
    response = raw("get", "/departments", token_for(org.admin, scopes=["catalog:read"]))
    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"
    assert response["WWW-Authenticate"] == f'{BEARER}, error="insufficient_scope", scope="org:read"'


def test_a_429_sends_retry_after(org, token_for, settings):  # noqa: F811
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    secret = token_for(org.admin)
    # Both requests in one minute's window, 20 s into it: the next window opens in 40 s.
    moment = dt.datetime.now(dt.UTC).replace(second=20, microsecond=0) + dt.timedelta(minutes=1)
    with time_machine.travel(moment, tick=False):
        assert raw("get", "/departments", secret).status_code == 200
        response = raw("get", "/departments", secret)
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    assert response["Retry-After"] == "40"
    assert not response.has_header("WWW-Authenticate")


def test_the_openapi_document_names_the_headers_of_401_and_429(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json()
    validate(document)
    operations = [op for path in document["paths"].values() for op in path.values()]
    with_429 = [op for op in operations if "429" in op["responses"]]
    assert with_429 and all(op["responses"]["429"]["headers"]["Retry-After"]["required"] for op in with_429)
    with_401 = [op for op in operations if "401" in op["responses"]]
    assert with_401 and all("WWW-Authenticate" in op["responses"]["401"]["headers"] for op in with_401)
    employee = document["components"]["schemas"]["EmployeeOut"]["properties"]
    assert {"dingtalk_user_id", "wecom_user_id", "feishu_user_id"} <= set(employee)


def test_the_platform_ids_written_are_read_back(org, token_for):  # noqa: F811
    secret = token_for(org.admin, scopes=["org:write", "org:read"])
    status, _body = call("put", "/employees", secret, {"employees": [
        {"employee_no": "E001", "dingtalk_user_id": "ding-1", "wecom_user_id": "wecom-1", "feishu_user_id": "ou_1"}]})
    assert status == 200
    status, person = call("get", "/employees/E001", secret)
    assert status == 200
    assert (person["dingtalk_user_id"], person["wecom_user_id"], person["feishu_user_id"]) == (
        "ding-1", "wecom-1", "ou_1")
    listed = {p["employee_no"]: p for p in call("get", "/employees", secret)[1]["items"]}
    assert listed["E001"]["feishu_user_id"] == "ou_1" and listed["E002"]["dingtalk_user_id"] == ""
