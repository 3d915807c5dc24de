"""Contact change events pushed by DingTalk, WeCom and Feishu: accepted only signed (and encrypted)
with the configured keys, answered as each platform requires, and followed by a sync of the one person
or department that changed (in the worker). Anything else is refused with 403 and a log line that
carries nothing of the message."""

import json
import logging
import secrets

import pytest
from django.core.cache import cache
from django.urls import reverse

import fake_directory
from fake_signin_platforms import DINGTALK_KEY, WECOM_CORP
from learntrace.org.models import Department, Employee, ImportBatch


@pytest.fixture
def world(settings, db):
    cache.clear()
    settings.DIRECTORY_DEPARTMENT_PREFIX = None
    settings.DIRECTORY_EMPLOYEE_NO = "number"
    settings.DIRECTORY_SYNC_DEACTIVATE_MISSING = False
    with fake_directory.running(settings) as server:
        platform = fake_directory.PlatformEvents()
        platform.configure(settings)
        yield server, platform


def organisation(server, root="1"):
    if root != "0":
        server.add_department("1", "人民医院")
    server.add_department("2", "护理部", root)
    server.add_person("N100", "张三", "2", number="N100", title="护士")
    server.add_person("N101", "李四", "2", number="N101", title="护士")


def synced(platform_name, server, root="1"):
    from django.core.management import call_command

    organisation(server, root)
    call_command("sync_directory", platform_name, verbosity=0)
    # Both change on the platform; an event names only one of them.
    server.people["N100"]["title"] = "主管护师"
    server.people["N101"]["title"] = "护士长"


def positions():
    return dict(Employee.objects.values_list("employee_no", "position"))


# ---------------------------------------------------------------- DingTalk


def dingtalk_post(client, platform, event: dict, *, token=None, tamper=False):
    sealed = platform.seal(json.dumps(event).encode(), DINGTALK_KEY)
    timestamp, nonce = "1767225600000", secrets.token_hex(4)
    signature = platform.sign(timestamp, nonce, sealed, token)
    if tamper:
        signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    query = f"?signature={signature}&timestamp={timestamp}&nonce={nonce}"
    return client.post(reverse("directory:dingtalk_events") + query, json.dumps({"encrypt": sealed}),
                       content_type="application/json")


def test_dingtalk_check_url_is_answered_with_an_encrypted_signed_success(client, world):
    server, platform = world
    response = dingtalk_post(client, platform, {"EventType": "check_url"})
    assert response.status_code == 200
    answer = response.json()
    assert platform.open(answer["encrypt"], DINGTALK_KEY) == b"success"
    assert answer["msg_signature"] == platform.sign(answer["timeStamp"], answer["nonce"], answer["encrypt"])
    assert answer["timeStamp"] == "1767225600000"
    assert not ImportBatch.objects.exists()


def test_a_dingtalk_user_event_syncs_that_person_only(client, world, django_capture_on_commit_callbacks):
    server, platform = world
    synced("dingtalk", server)
    with django_capture_on_commit_callbacks(execute=True):
        response = dingtalk_post(client, platform, {"EventType": "user_modify_org", "UserId": ["N100"],
                                                    "CorpId": "dingcorp01", "TimeStamp": "1767225600000"})
    assert response.status_code == 200
    assert positions() == {"N100": "主管护师", "N101": "护士"}
    batch = ImportBatch.objects.order_by("-created_at").first()
    assert (batch.source, batch.status, batch.deactivate_missing) == ("dingtalk", ImportBatch.Status.APPLIED, False)


def test_a_dingtalk_department_event_brings_the_new_department_under_its_parent(client, world,
                                                                               django_capture_on_commit_callbacks):
    server, platform = world
    synced("dingtalk", server)
    server.add_department("7", "急诊科", "2")
    server.add_department("8", "急诊一病区", "7")
    with django_capture_on_commit_callbacks(execute=True):
        dingtalk_post(client, platform, {"EventType": "org_dept_create", "DeptId": [8]})
    ward = Department.objects.get(code="dingtalk-8")
    assert (ward.name, ward.parent.code, ward.parent.parent.code) == ("急诊一病区", "dingtalk-7", "dingtalk-2")
    assert positions() == {"N100": "护士", "N101": "护士"}


@pytest.mark.parametrize("deactivate", [False, True])
def test_a_person_who_left_dingtalk_is_deactivated_only_when_the_deployment_chose_it(
        client, world, settings, deactivate, django_capture_on_commit_callbacks):
    server, platform = world
    synced("dingtalk", server)
    settings.DIRECTORY_SYNC_DEACTIVATE_MISSING = deactivate
    del server.people["N101"]
    with django_capture_on_commit_callbacks(execute=True):
        assert dingtalk_post(client, platform, {"EventType": "user_leave_org", "UserId": ["N101"]}).status_code == 200
    assert dict(Employee.objects.values_list("employee_no", "is_active")) == {"N100": True, "N101": not deactivate}


@pytest.mark.parametrize("how", ["tampered", "other token"])
def test_a_dingtalk_event_with_a_wrong_signature_is_refused_and_logged_without_content(
        client, world, caplog, how, django_capture_on_commit_callbacks):
    server, platform = world
    synced("dingtalk", server)
    caplog.set_level(logging.WARNING, logger="learntrace.directory")
    with django_capture_on_commit_callbacks(execute=True):
        response = dingtalk_post(client, platform, {"EventType": "user_modify_org", "UserId": ["N100"]},
                                 token="someone-else" if how == "other token" else None, tamper=how == "tampered")
    assert response.status_code == 403
    assert positions() == {"N100": "护士", "N101": "护士"}
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("learntrace.directory")]
    assert lines == ["dingtalk contact event refused: bad signature"]


def test_a_dingtalk_event_for_another_app_or_garbage_is_refused(client, world):
    server, platform = world
    sealed = platform.seal(json.dumps({"EventType": "check_url"}).encode(), "another-app")
    timestamp, nonce = "1", "n"
    query = f"?signature={platform.sign(timestamp, nonce, sealed)}&timestamp={timestamp}&nonce={nonce}"
    url = reverse("directory:dingtalk_events")
    assert client.post(url + query, json.dumps({"encrypt": sealed}), content_type="application/json").status_code \
        == 403
    garbage = "not base64!"
    query = f"?signature={platform.sign(timestamp, nonce, garbage)}&timestamp={timestamp}&nonce={nonce}"
    assert client.post(url + query, json.dumps({"encrypt": garbage}), content_type="application/json").status_code \
        == 403
    assert client.post(url, "[]", content_type="application/json").status_code == 403
    assert client.get(url).status_code == 405


def test_events_are_refused_until_their_keys_are_configured(client, world, settings):
    server, platform = world
    settings.DINGTALK_EVENT_AES_KEY = settings.WECOM_CONTACT_EVENT_TOKEN = settings.FEISHU_EVENT_ENCRYPT_KEY = ""
    assert dingtalk_post(client, platform, {"EventType": "check_url"}).status_code == 403
    assert client.get(reverse("directory:wecom_events"), {"echostr": "x"}).status_code == 403
    assert client.post(reverse("directory:feishu_events"), "{}", content_type="application/json").status_code == 403


# ---------------------------------------------------------------- WeCom


def wecom_query(platform, sealed, *, tamper=False):
    timestamp, nonce = "1767225600", secrets.token_hex(4)
    signature = platform.sign(timestamp, nonce, sealed)
    if tamper:
        signature = platform.sign(timestamp, nonce + "x", sealed)
    return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}


def wecom_post(client, platform, inner_xml: str, *, tamper=False):
    sealed = platform.seal(inner_xml.encode(), WECOM_CORP)
    body = f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"
    query = wecom_query(platform, sealed, tamper=tamper)
    url = reverse("directory:wecom_events") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, body, content_type="text/xml")


def change_contact(change: str, **fields) -> str:
    extra = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (f"<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>1767225600</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_contact]]></Event><ChangeType>{change}</ChangeType>{extra}</xml>")


def test_wecom_url_verification_echoes_the_decrypted_string(client, world):
    server, platform = world
    sealed = platform.seal(b"echo-4711", WECOM_CORP)
    response = client.get(reverse("directory:wecom_events"), {"echostr": sealed, **wecom_query(platform, sealed)})
    assert (response.status_code, response.content) == (200, b"echo-4711")
    tampered = client.get(reverse("directory:wecom_events"),
                          {"echostr": sealed, **wecom_query(platform, sealed, tamper=True)})
    assert tampered.status_code == 403


def test_a_wecom_contact_change_syncs_that_person_only(client, world, django_capture_on_commit_callbacks):
    server, platform = world
    synced("wecom", server)
    with django_capture_on_commit_callbacks(execute=True):
        response = wecom_post(client, platform, change_contact("update_user", UserID="N101"))
    assert (response.status_code, response.content) == (200, b"")
    assert positions() == {"N100": "护士", "N101": "护士长"}


def test_a_wecom_department_change_syncs_that_department(client, world, django_capture_on_commit_callbacks):
    server, platform = world
    synced("wecom", server)
    server.departments["2"]["name"] = "护理部（总）"
    with django_capture_on_commit_callbacks(execute=True):
        wecom_post(client, platform, change_contact("update_party", Id="2"))
    assert Department.objects.get(code="wecom-2").name == "护理部（总）"
    assert positions() == {"N100": "护士", "N101": "护士"}


def test_a_wecom_event_with_a_wrong_signature_is_refused(client, world, caplog, django_capture_on_commit_callbacks):
    server, platform = world
    synced("wecom", server)
    caplog.set_level(logging.WARNING, logger="learntrace.directory")
    with django_capture_on_commit_callbacks(execute=True):
        response = wecom_post(client, platform, change_contact("update_user", UserID="N101"), tamper=True)
    assert response.status_code == 403
    assert positions() == {"N100": "护士", "N101": "护士"}
    assert [r.getMessage() for r in caplog.records if r.name.startswith("learntrace.directory")] == [
        "wecom contact event refused: bad signature"]


def test_a_wecom_body_with_a_document_type_is_refused_before_its_entities_are_expanded(client, world):
    server, platform = world
    # The entity expands to a correctly sealed and signed message: only refusing the DTD stops it.
    sealed = platform.seal(change_contact("update_user", UserID="N101").encode(), WECOM_CORP)
    body = f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "{sealed}">]><xml><Encrypt>&e;</Encrypt></xml>'
    query = wecom_query(platform, sealed)
    url = reverse("directory:wecom_events") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    assert client.post(url, body, content_type="text/xml").status_code == 403
    assert not ImportBatch.objects.exists()


# ---------------------------------------------------------------- Feishu


def feishu_post(client, platform, event: dict, *, key=None, sign_key=None):
    body = json.dumps({"encrypt": platform.feishu_seal(event, key)}).encode()
    return client.post(reverse("directory:feishu_events"), body, content_type="application/json",
                       **platform.feishu_headers(body, sign_key))


def feishu_event(platform, event_type: str, changed: dict, token=None) -> dict:
    return {"schema": "2.0", "header": {"event_id": secrets.token_hex(8), "token": token or platform.token,
                                        "create_time": "1767225600000", "event_type": event_type,
                                        "tenant_key": "tenant", "app_id": "cli_app01"},
            "event": {"object": changed}}


def test_feishu_url_verification_answers_the_challenge_for_the_right_token(client, world):
    server, platform = world
    challenge = {"challenge": "ajls384kdjx98XX", "token": platform.token, "type": "url_verification"}
    response = feishu_post(client, platform, challenge)
    assert (response.status_code, response.json()) == (200, {"challenge": "ajls384kdjx98XX"})
    assert feishu_post(client, platform, {**challenge, "token": "wrong"}).status_code == 403


def test_a_feishu_user_event_syncs_that_person_only(client, world, django_capture_on_commit_callbacks):
    server, platform = world
    synced("feishu", server, root="0")
    with django_capture_on_commit_callbacks(execute=True):
        response = feishu_post(client, platform, feishu_event(platform, "contact.user.updated_v3",
                                                              {"user_id": "N100", "open_id": "ou_N100"}))
    assert response.status_code == 200
    assert positions() == {"N100": "主管护师", "N101": "护士"}


def test_a_feishu_department_event_syncs_that_department(client, world, django_capture_on_commit_callbacks):
    server, platform = world
    synced("feishu", server, root="0")
    server.add_department("9", "药剂科", "0")
    with django_capture_on_commit_callbacks(execute=True):
        feishu_post(client, platform, feishu_event(platform, "contact.department.created_v3",
                                                   {"department_id": "9", "name": "药剂科"}))
    pharmacy = Department.objects.get(code="feishu-9")
    assert (pharmacy.name, pharmacy.parent.code) == ("药剂科", "feishu-0")


@pytest.mark.parametrize("how", ["signature", "encryption", "token"])
def test_a_feishu_event_not_from_feishu_is_refused(client, world, caplog, how, django_capture_on_commit_callbacks):
    server, platform = world
    synced("feishu", server, root="0")
    caplog.set_level(logging.WARNING, logger="learntrace.directory")
    event = feishu_event(platform, "contact.user.updated_v3", {"user_id": "N100"},
                         token="wrong" if how == "token" else None)
    with django_capture_on_commit_callbacks(execute=True):
        response = feishu_post(client, platform, event, key="other-key" if how == "encryption" else None,
                               sign_key="other-key" if how == "signature" else None)
    assert response.status_code == 403
    assert positions() == {"N100": "护士", "N101": "护士"}
    expected = "not a valid message" if how == "encryption" else "bad signature"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("learntrace.directory")] == [
        f"feishu contact event refused: {expected}"]


def test_an_unencrypted_feishu_event_is_refused(client, world):
    server, platform = world
    body = json.dumps(feishu_event(platform, "contact.user.updated_v3", {"user_id": "N100"})).encode()
    response = client.post(reverse("directory:feishu_events"), body, content_type="application/json",
                           **platform.feishu_headers(body))
    assert response.status_code == 403


def test_dingtalk_parameters_are_read_under_both_of_their_names_and_the_owner_key_can_be_the_corp(
        client, world, settings):
    server, platform = world
    settings.DINGTALK_EVENT_OWNER_KEY = "dingcorp01"
    sealed = platform.seal(json.dumps({"EventType": "check_url"}).encode(), "dingcorp01")
    timestamp, nonce = "1767225600000", "n0nce"
    query = f"?msg_signature={platform.sign(timestamp, nonce, sealed)}&timeStamp={timestamp}&nonce={nonce}"
    response = client.post(reverse("directory:dingtalk_events") + query, json.dumps({"encrypt": sealed}),
                           content_type="application/json")
    assert response.status_code == 200
    assert platform.open(response.json()["encrypt"], "dingcorp01") == b"success"
    assert response.json()["timeStamp"] == timestamp
    # Sealed for the app's key, it is no longer accepted.
    assert dingtalk_post(client, platform, {"EventType": "check_url"}).status_code == 403


def test_a_wecom_member_deleted_is_deactivated_when_the_deployment_deactivates_leavers(
        client, world, settings, django_capture_on_commit_callbacks):
    server, platform = world
    synced("wecom", server)
    settings.DIRECTORY_SYNC_DEACTIVATE_MISSING = True
    del server.people["N100"]
    with django_capture_on_commit_callbacks(execute=True):
        assert wecom_post(client, platform, change_contact("delete_user", UserID="N100")).status_code == 200
    assert dict(Employee.objects.values_list("employee_no", "is_active")) == {"N100": False, "N101": True}
    assert dict(Employee.objects.values_list("employee_no", "position")) == {"N100": "护士", "N101": "护士"}


def test_a_wecom_member_created_in_a_new_department_brings_the_department(client, world,
                                                                          django_capture_on_commit_callbacks):
    server, platform = world
    synced("wecom", server)
    server.add_department("4", "手术室", "2")
    server.add_person("N200", "王五", "4", title="器械护士")
    with django_capture_on_commit_callbacks(execute=True):
        wecom_post(client, platform, change_contact("create_user", UserID="N200"))
    wang = Employee.objects.select_related("department__parent").get(employee_no="N200")
    assert (wang.name, wang.position, wang.wecom_user_id, wang.department.code, wang.department.parent.code) == (
        "王五", "器械护士", "N200", "wecom-4", "wecom-2")
