"""Fetching a Feishu meeting's participants through Feishu's open API (查询参会人明细,
GET /open-apis/vc/v1/participant_list), at the configurable FEISHU_API_URL, with the app's tenant
access token (the same app as sign-in and the directory sync).

Feishu answers one entry per join, in pages (page_token, has_more), with the join and leave
times as "2026.11.20 09:58:03 (GMT+08:00)"; they become the same joins a file gives, so that a
fetch is reviewed and credited exactly like an upload."""

from django.conf import settings
from django.utils.translation import gettext as _

from learntrace.onlineattendance.formats import JoinRow, Parsed, parse_time
from learntrace.onlineattendance.models import OnlineMeeting
from learntrace.platforms.base import PlatformError, StaleToken, call, part, rejected, seconds, text, with_app_token

PATH = "/open-apis/vc/v1/participant_list"
PAGE_SIZE = 100
MAX_PAGES = 200  # 20 000 joins: far beyond any meeting; an endless paging is refused
STALE_TOKEN = (99991661, 99991663, 99991664, 99991665)


class FetchError(Exception):
    """The participants could not be fetched; the message says why, for the admin."""


def _app_token() -> tuple[str, int]:
    answer = call("feishu", "tenant access token", "POST",
                  f"{settings.FEISHU_API_URL}/open-apis/auth/v3/tenant_access_token/internal",
                  json={"app_id": settings.FEISHU_APP_ID, "app_secret": settings.FEISHU_APP_SECRET})
    token = text(answer.get("tenant_access_token"))
    if answer.get("code") != 0 or not token:
        raise rejected("feishu", "tenant access token", f"{answer.get('code')} {answer.get('msg', '')}")
    return token, seconds(answer.get("expire"))


def _page(params: dict) -> dict:
    def use(token: str) -> dict:
        answer = call("feishu", "participant list", "GET", f"{settings.FEISHU_API_URL}{PATH}", params=params,
                      headers={"Authorization": f"Bearer {token}"})
        if answer.get("code") in STALE_TOKEN:
            raise StaleToken
        if answer.get("code") != 0:
            raise FetchError(_("Feishu refused the request: %(code)s %(message)s")
                             % {"code": answer.get("code"), "message": text(answer.get("msg"), 200)})
        return part(answer, "data")

    identity = (settings.FEISHU_API_URL, settings.FEISHU_APP_ID, settings.FEISHU_APP_SECRET)
    return with_app_token("feishu", identity, _app_token, use)


def fetch(online: OnlineMeeting, zone) -> Parsed:
    """Every join of the meeting, as Feishu lists them."""
    if not (settings.FEISHU_APP_ID and settings.FEISHU_APP_SECRET):
        raise FetchError(_("Feishu is not configured: set FEISHU_APP_ID and FEISHU_APP_SECRET."))
    if not online.meeting_number.isdigit():
        raise FetchError(_("Enter the meeting's Feishu meeting number first."))
    meeting = online.meeting
    params = {"meeting_no": online.meeting_number, "meeting_start_time": str(int(meeting.starts_at.timestamp())),
              "meeting_end_time": str(int(meeting.ends_at.timestamp())), "meeting_status": "2",
              "user_id_type": "user_id", "page_size": str(PAGE_SIZE)}
    parsed, row, seen = Parsed(), 0, set()
    try:
        for _number in range(MAX_PAGES):
            data = _page(params)
            for item in data.get("participants") or []:
                if not isinstance(item, dict):
                    continue
                row += 1
                join = JoinRow(row=row, name=text(item.get("participant_name"), 200),
                               platform_user_id=text(item.get("user_id"), 128),
                               employee_no=text(item.get("employee_id"), 64),
                               department=text(item.get("department"), 200), mobile=text(item.get("phone"), 32),
                               email=text(item.get("email"), 200),
                               joined=parse_time(text(item.get("join_time"), 64), zone),
                               left=parse_time(text(item.get("leave_time"), 64), zone))
                if join.joined is None or join.left is None or join.left < join.joined:
                    parsed.error(row, "join", _("Feishu sent no valid join and leave time for %(name)s.")
                                 % {"name": join.name or join.platform_user_id})
                parsed.joins.append(join)
            token = text(data.get("page_token"))
            if not data.get("has_more") or not token:
                break
            if token in seen:
                raise FetchError(_("Feishu kept sending the same page; the fetch was stopped."))
            seen.add(token)
            params["page_token"] = token
        else:
            raise FetchError(_("Feishu sent more pages than any meeting has; the fetch was stopped."))
    except PlatformError as error:
        if error.reason == "unreachable":
            raise FetchError(_("Feishu could not be reached; try again later.")) from None
        raise FetchError(_("Feishu refused the app's credentials.")) from None
    if not parsed.joins:
        raise FetchError(_("Feishu lists no participants for this meeting number and time."))
    return parsed
