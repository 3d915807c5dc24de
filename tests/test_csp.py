"""The Content-Security-Policy: on every response, strict, and templates that need nothing inline."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import learntrace

TEMPLATES = Path(learntrace.__file__).parent / "templates"
INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> element": re.compile(r"<style[\s>]", re.I),
    "an event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a javascript: address": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_need_nothing_inline(template):
    text = template.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


def directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def test_pages_get_the_strict_policy(org, client_for):
    for response in (Client().get(reverse("accounts:login")), client_for(org.admin).get(reverse("home:home")),
                     client_for(org.admin).get("/api/v1/docs"), Client().get("/no-such-page/")):
        policy = directives(response)
        assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
        assert response["X-Frame-Options"] == "DENY"


def test_the_api_and_the_beat_endpoint_carry_it_too(org, client_for):
    client = client_for(org.learner)
    assert directives(client.get("/api/v1/openapi.json"))["frame-ancestors"] == ["'none'"]
    assert directives(client.post(reverse("tracking:beat"), {"attempt": "x", "beat": "{}"}))["default-src"] == \
        ["'self'"]


def test_forms_may_go_to_the_configured_sign_in_providers(settings):
    settings.CSP_FORM_ACTION_ORIGINS = ["https://login.example.com"]
    assert directives(Client().get(reverse("accounts:login")))["form-action"] == \
        ["'self'", "https://login.example.com"]


@pytest.mark.parametrize("value", ["'unsafe-inline'", "https://a.example; script-src *", "login.example.com"])
def test_a_form_action_origin_that_is_not_an_origin_stops_the_start(value, monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import learntrace.settings

    monkeypatch.setenv("CSP_FORM_ACTION_ORIGINS", value)
    with pytest.raises(ImproperlyConfigured, match="CSP_FORM_ACTION_ORIGINS"):
        importlib.reload(learntrace.settings)
    monkeypatch.delenv("CSP_FORM_ACTION_ORIGINS")
    importlib.reload(learntrace.settings)


def test_the_dingtalk_in_app_page_may_load_the_jsapi_from_its_origin_only(db, client, settings):
    settings.SIGNIN_METHODS = ["password", "dingtalk"]
    settings.DINGTALK_APP_KEY, settings.DINGTALK_APP_SECRET = "key", "secret"
    settings.DINGTALK_CORP_ID = "corp"
    settings.DINGTALK_JSAPI_URL = "https://cdn.example.com/dingtalk/open.js"
    response = client.get(reverse("platforms:dingtalk_in_app"))
    assert response.status_code == 200
    assert "script-src 'self' https://cdn.example.com;" in response["Content-Security-Policy"]
    assert "script-src 'self';" in client.get(reverse("accounts:login"))["Content-Security-Policy"]
