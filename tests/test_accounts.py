"""Logging in and out, throttling wrong passwords, changing passwords and languages."""

import pytest
from django.urls import reverse

from conftest import PASSWORD
from learntrace.org.models import Employee

LOGIN = "/accounts/login/"


def login(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_and_logout(org, client):
    response = login(client, "learner", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_says_so_without_logging_in(org, client):
    client.cookies["django_language"] = "en"
    response = login(client, "learner", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert client.get("/").status_code == 302


def test_logout_needs_post(org, client_for):
    client = client_for(org.learner)
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_an_account_is_locked_after_five_wrong_passwords_from_anywhere(org, client):
    client.cookies["django_language"] = "en"
    for attempt in range(5):
        login(client, "learner", "wrong", address=f"10.0.1.{attempt}")
    response = login(client, "learner", PASSWORD, address="10.0.2.1")
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.text
    assert client.get("/").status_code == 302  # even the right password did not log in
    # Another account from another address is not affected.
    assert login(client, "outsider", PASSWORD, address="10.0.3.1").status_code == 302


def test_an_address_is_locked_after_five_wrong_passwords_for_any_accounts(org, client):
    for number in range(5):
        login(client, f"nobody{number}", "wrong", address="10.9.9.9")
    response = login(client, "outsider", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429


def test_the_lockout_message_speaks_chinese_by_default(org, client):
    for _attempt in range(5):
        login(client, "learner", "wrong")
    response = login(client, "learner", "wrong")
    assert response.status_code == 429
    assert "密码错误次数过多" in response.text


def test_the_lockout_ends_after_the_cooloff(org, client):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _attempt in range(5):
            login(client, "learner", "wrong")
        assert login(client, "learner", PASSWORD).status_code == 429
        traveller.shift(16 * 60)
        assert login(client, "learner", PASSWORD).status_code == 302


def test_changing_the_password(org, client_for):
    client = client_for(org.learner)
    new = "a much longer new secret 42"
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": new, "new_password2": new,
    })
    assert response.status_code == 302
    org.learner.user.refresh_from_db()
    assert org.learner.user.check_password(new)


@pytest.mark.parametrize("old,new", [("wrong old", "a much longer new secret 42"), (PASSWORD, "short")])
def test_a_bad_password_change_is_refused(org, client_for, old, new):
    client = client_for(org.learner)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": old, "new_password1": new, "new_password2": new,
    })
    assert response.status_code == 200
    assert "errorlist" in response.text
    org.learner.user.refresh_from_db()
    assert org.learner.user.check_password(PASSWORD)


def test_a_fresh_install_speaks_chinese(org, client):
    response = client.get(LOGIN)
    assert 'lang="zh-hans"' in response.text
    assert "登录" in response.text


def test_switching_language_is_remembered_for_the_person(org, client_for):
    client = client_for(org.learner, language="zh-hans")
    response = client.post(reverse("accounts:language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert Employee.objects.get(pk=org.learner.pk).language == "en"
    assert "Log out" in client.get("/").text


def test_the_language_follows_the_person_to_a_new_device(org, client):
    Employee.objects.filter(pk=org.learner.pk).update(language="en")
    response = login(client, "learner", PASSWORD)
    assert response.cookies["django_language"].value == "en"


def test_an_unknown_language_is_ignored(org, client_for):
    client = client_for(org.learner, language="zh-hans")
    client.post(reverse("accounts:language"), {"language": "xx", "next": "/"})
    assert Employee.objects.get(pk=org.learner.pk).language == ""


def test_switching_language_needs_csrf(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner.user)
    assert client.post(reverse("accounts:language"), {"language": "en"}).status_code == 403


def test_the_browsers_language_does_not_override_the_configured_one(org, client):
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in response.text
