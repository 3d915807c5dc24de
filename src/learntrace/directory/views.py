"""The admin's "sync now" button, and the endpoints the platforms push contact changes to.

The platforms cannot send a CSRF token: their endpoints are exempt and accept only messages signed
(and encrypted) with the keys configured here; anything else is answered 403 and logged without its
content."""

import hmac
import json
import logging
from xml.parsers import expat

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from learntrace.directory import events, tasks
from learntrace.directory.services import sync_begin
from learntrace.directory.sources import DirectoryError
from learntrace.org.access import admin_required

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 64 * 1024  # a contact event is a few hundred bytes
MAX_IDS = 100  # ids read from one event


@require_POST
@admin_required
def sync_now(request):
    try:
        batch = sync_begin(source=settings.DIRECTORY_SYNC_SOURCE, actor=request.user,
                           deactivate_missing=request.POST.get("deactivate_missing") == "on",
                           language=request.LANGUAGE_CODE)
    except DirectoryError as exc:
        messages.error(request, str(exc))
        return redirect("org:import")
    transaction.on_commit(lambda: tasks.check_sync(batch.pk))
    return redirect("org:import_batch", batch_id=batch.pk)


def _ids(values) -> list[str]:
    if not isinstance(values, list):
        values = [values]
    return [str(v)[:128] for v in values if isinstance(v, str | int) and not isinstance(v, bool) and str(v)][:MAX_IDS]


def _sync_changes(source: str, *, user_ids=(), department_ids=()) -> None:
    user_ids, department_ids = _ids(list(user_ids)), _ids(list(department_ids))
    if not user_ids and not department_ids:
        return
    changes = _("%(people)d people, %(departments)d departments changed") % {
        "people": len(user_ids), "departments": len(department_ids)}
    try:
        batch = sync_begin(source=source, changes=changes)
    except DirectoryError:
        log.warning("%s contact event not synced: the directory sync is not configured for it", source)
        return
    transaction.on_commit(lambda: tasks.apply_sync(batch.pk, user_ids, department_ids))


def _refused(platform: str, why: str) -> HttpResponse:
    log.warning("%s contact event refused: %s", platform, why)
    return HttpResponseForbidden()


# ---------------------------------------------------------------- DingTalk

DINGTALK_USER_EVENTS = {"user_add_org", "user_modify_org", "user_leave_org", "user_active_org"}
DINGTALK_DEPARTMENT_EVENTS = {"org_dept_create", "org_dept_modify", "org_dept_remove"}


@csrf_exempt
@require_POST
def dingtalk_events(request):
    token, key = settings.DINGTALK_EVENT_TOKEN, settings.DINGTALK_EVENT_AES_KEY
    # Whose messages these are: the app's key for an app's subscription, the corp id for the older
    # organisation-wide callbacks.
    app_key = settings.DINGTALK_EVENT_OWNER_KEY or settings.DINGTALK_APP_KEY
    if not (token and key and app_key):
        return _refused("dingtalk", "the event keys are not configured")
    if len(request.body) > MAX_EVENT_BYTES:
        return _refused("dingtalk", "too large")
    # DingTalk has named these parameters both ways.
    query = request.GET
    timestamp = query.get("timestamp") or query.get("timeStamp") or ""
    nonce, signature = query.get("nonce", ""), query.get("msg_signature") or query.get("signature") or ""
    try:
        encrypted = json.loads(request.body).get("encrypt")
        if not isinstance(encrypted, str):
            raise events.BadMessage("no encrypt")
        events.check_msg_signature(token, timestamp, nonce, encrypted, signature)
        event = json.loads(events.msg_decrypt(key, encrypted, app_key))
        if not isinstance(event, dict):
            raise events.BadMessage("not an object")
    except (events.BadMessage, ValueError, AttributeError) as exc:
        return _refused("dingtalk", "bad signature" if str(exc) == "signature" else "not a valid message")
    kind = event.get("EventType")
    if kind in DINGTALK_USER_EVENTS:
        _sync_changes("dingtalk", user_ids=_ids(event.get("UserId", [])))
    elif kind in DINGTALK_DEPARTMENT_EVENTS:
        _sync_changes("dingtalk", department_ids=_ids(event.get("DeptId", [])))
    # check_url, and every other event: acknowledged as DingTalk requires, with an encrypted "success".
    encrypted_reply = events.msg_encrypt(key, b"success", app_key)
    return JsonResponse({"msg_signature": events.msg_signature(token, timestamp, nonce, encrypted_reply),
                         "timeStamp": timestamp, "nonce": nonce, "encrypt": encrypted_reply})


# ---------------------------------------------------------------- WeCom

WECOM_USER_CHANGES = {"create_user", "update_user", "delete_user"}
WECOM_DEPARTMENT_CHANGES = {"create_party", "update_party"}


def _refuse_document_type(*args):
    raise events.BadMessage("document type")


def _xml_fields(data: bytes) -> dict:
    """The child elements of WeCom's flat XML. A document type is refused before anything in it is
    read: its entities could expand into whatever passes the signature check, or into gigabytes."""
    parser = expat.ParserCreate()
    fields, open_elements, characters = {}, [], []

    def start(name, attributes):
        open_elements.append(name)
        characters.clear()

    def end(name):
        if len(open_elements) == 2:
            fields[name] = "".join(characters).strip()
        open_elements.pop()

    parser.StartDoctypeDeclHandler = _refuse_document_type
    parser.EntityDeclHandler = _refuse_document_type
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = characters.append
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        raise events.BadMessage("xml") from None
    return fields


@csrf_exempt
def wecom_events(request):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    token, key, corp = settings.WECOM_CONTACT_EVENT_TOKEN, settings.WECOM_CONTACT_EVENT_AES_KEY, settings.WECOM_CORP_ID
    if not (token and key and corp):
        return _refused("wecom", "the event keys are not configured")
    if len(request.body) > MAX_EVENT_BYTES:
        return _refused("wecom", "too large")
    query = request.GET
    signature, timestamp, nonce = query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
    try:
        if request.method == "GET":  # the URL check when the callback is saved: answer the decrypted echo
            echo = query.get("echostr", "")
            events.check_msg_signature(token, timestamp, nonce, echo, signature)
            return HttpResponse(events.msg_decrypt(key, echo, corp), content_type="text/plain")
        encrypted = _xml_fields(request.body).get("Encrypt", "")
        events.check_msg_signature(token, timestamp, nonce, encrypted, signature)
        message = _xml_fields(events.msg_decrypt(key, encrypted, corp))
    except events.BadMessage as exc:
        return _refused("wecom", "bad signature" if str(exc) == "signature" else "not a valid message")
    if message.get("Event") == "change_contact":
        change = message.get("ChangeType")
        if change in WECOM_USER_CHANGES:
            _sync_changes("wecom", user_ids=[i for i in (message.get("UserID"), message.get("NewUserID")) if i])
        elif change in WECOM_DEPARTMENT_CHANGES:
            _sync_changes("wecom", department_ids=[message.get("Id", "")])
    return HttpResponse("", content_type="text/plain")  # an empty answer: received, nothing to reply


# ---------------------------------------------------------------- Feishu

FEISHU_USER_EVENTS = {"contact.user.created_v3", "contact.user.updated_v3", "contact.user.deleted_v3"}
FEISHU_DEPARTMENT_EVENTS = {"contact.department.created_v3", "contact.department.updated_v3"}


@csrf_exempt
@require_POST
def feishu_events(request):
    token, key = settings.FEISHU_EVENT_VERIFICATION_TOKEN, settings.FEISHU_EVENT_ENCRYPT_KEY
    if not (token and key):
        return _refused("feishu", "the event keys are not configured")
    if len(request.body) > MAX_EVENT_BYTES:
        return _refused("feishu", "too large")
    try:
        encrypted = json.loads(request.body).get("encrypt")
        if not isinstance(encrypted, str):
            raise events.BadMessage("not encrypted")
        event = events.feishu_decrypt(key, encrypted)
        if event.get("type") == "url_verification":
            # Saving the request URL: Feishu proves itself with the verification token, and wants the challenge.
            if not isinstance(event.get("token"), str) or not hmac.compare_digest(event["token"], token):
                raise events.BadMessage("signature")
            return JsonResponse({"challenge": str(event.get("challenge", ""))})
        headers = request.headers
        events.check_feishu_signature(headers.get("X-Lark-Request-Timestamp", ""),
                                      headers.get("X-Lark-Request-Nonce", ""), key, request.body,
                                      headers.get("X-Lark-Signature", ""))
        header = event.get("header") if isinstance(event.get("header"), dict) else {}
        if not isinstance(header.get("token"), str) or not hmac.compare_digest(header["token"], token):
            raise events.BadMessage("signature")
    except (events.BadMessage, ValueError, AttributeError) as exc:
        return _refused("feishu", "bad signature" if str(exc) == "signature" else "not a valid message")
    body = event.get("event") if isinstance(event.get("event"), dict) else {}
    changed = body.get("object") if isinstance(body.get("object"), dict) else {}
    kind = header.get("event_type")
    if kind in FEISHU_USER_EVENTS:
        _sync_changes("feishu", user_ids=[changed.get("user_id", "")])
    elif kind in FEISHU_DEPARTMENT_EVENTS:
        _sync_changes("feishu", department_ids=[changed.get("department_id", "")])
    return JsonResponse({})
