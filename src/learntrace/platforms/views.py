"""The pages of a platform sign-in: start (to the platform's authorisation page), the callback it
returns to, and DingTalk's in-app page that asks the app for a code."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from learntrace.accounts import signin
from learntrace.core import csp
from learntrace.platforms import flow
from learntrace.platforms.registry import PLATFORMS


@require_GET
def start(request, platform):
    platform = PLATFORMS[platform]
    next_url = request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect(signin.safe_next(request, next_url))
    if not platform.available():
        return flow.refused(request, platform, "disabled")
    if signin.throttled(request):
        return flow.refused(request, platform, "throttled")
    in_app = platform.in_app(request)
    if in_app and platform.in_app_url_name != f"platforms:{platform.method}_start":
        url = reverse(platform.in_app_url_name)
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)
    state = flow.begin(request, platform, next_url)
    return redirect(platform.authorize_url(state=state, redirect_uri=flow.callback_uri(request, platform),
                                           in_app=in_app))


@require_GET
def callback(request, platform):
    platform = PLATFORMS[platform]
    if not platform.available():
        return flow.refused(request, platform, "disabled")
    redirect_uri = flow.callback_uri(request, platform)
    code = request.GET.get(platform.code_parameter) or request.GET.get("code", "")
    return flow.finish(request, platform, state=request.GET.get("state", ""), code=code,
                       exchange=lambda code: platform.user_id(code=code, redirect_uri=redirect_uri))


@require_http_methods(["GET", "POST"])
def dingtalk_in_app(request):
    """Inside DingTalk (免登): the page asks the app for a one-time code and posts it back here."""
    platform = PLATFORMS["dingtalk"]
    if not platform.available():
        return flow.refused(request, platform, "disabled")
    if request.method == "POST":
        return flow.finish(request, platform, state=request.POST.get("state", ""), code=request.POST.get("code", ""),
                           exchange=platform.user_id_in_app)
    next_url = request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect(signin.safe_next(request, next_url))
    if signin.throttled(request):
        return flow.refused(request, platform, "throttled")
    response = render(request, "platforms/dingtalk_in_app.html", {
        "state": flow.begin(request, platform, next_url),
        "corp_id": settings.DINGTALK_CORP_ID,
        "client_id": settings.DINGTALK_APP_KEY,
        "jsapi_url": settings.DINGTALK_JSAPI_URL,
    })
    return csp.allow_script_from(response, settings.DINGTALK_JSAPI_URL) if settings.DINGTALK_JSAPI_URL else response
