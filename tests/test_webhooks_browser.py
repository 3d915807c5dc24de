"""An admin subscribes an address to events in the browser, in both languages: the checklist of
events, the secret shown once, a test event received by a real local server and verified with the
standardwebhooks library, and the delivery log; every page passes axe-core's WCAG 2.1 AA checks."""

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from accessibility import axe_violations
from learntrace.webhooks import services
from learntrace.webhooks.models import Subscription, WebhookDelivery
from test_browser import log_in
from webhook_receiver import Receiver

TEXT = {
    "en": {"new": "New subscription", "name": "Name", "url": "URL", "recorded": "Completion recorded",
           "judged": "Period judged", "save": "Save", "done": "Done", "test": "Send test event",
           "sent": "Sent", "log": "Webhook deliveries", "delete": "Delete subscription",
           "deleted": "Subscription deleted, with its deliveries."},
    "zh-hans": {"new": "新建订阅", "name": "名称", "url": "地址", "recorded": "完成记录已登记",
                "judged": "周期已评定", "save": "保存", "done": "完成", "test": "发送测试事件",
                "sent": "已发送", "log": "Webhook 发送记录", "delete": "删除订阅",
                "deleted": "订阅已删除，其发送记录一并删除。"},
}


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    server = Receiver().start()
    yield server
    server.stop()


def assert_accessible(page):
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_subscribes_and_sends_a_test_event(live_server, org, new_page, receiver, language):
    text = TEXT[language]
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/webhooks/")
    assert_accessible(page)
    page.get_by_role("link", name=text["new"]).click()
    page.get_by_label(text["name"]).fill("Payroll")
    page.get_by_label(text["url"]).fill(f"{receiver.url}/hooks")
    page.get_by_label(text["recorded"]).check()
    page.get_by_label(text["judged"]).check()
    assert_accessible(page)
    page.get_by_role("button", name=text["save"]).click()

    secret = page.locator("[data-secret]").inner_text()
    assert secret.startswith("whsec_")
    assert_accessible(page)
    subscription = Subscription.objects.get()
    assert subscription.events == ["completion.recorded", "period.judged"] and subscription.secret == secret

    page.get_by_role("link", name=text["done"]).click()
    expect(page.locator("#stored-secret")).not_to_contain_text(secret)
    assert_accessible(page)
    page.get_by_role("button", name=text["test"]).click()
    expect(page.locator("#delivery-status")).to_have_text(text["sent"])
    assert_accessible(page)
    [received] = receiver.received
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"

    page.goto(f"{live_server.url}/webhooks/deliveries/")
    expect(page.get_by_role("heading", name=text["log"])).to_be_visible()
    expect(page.locator("#deliveries")).to_contain_text("webhook.test")
    assert_accessible(page)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_deletes_a_subscription_after_confirming(live_server, org, new_page, receiver, language):
    text = TEXT[language]
    subscription = Subscription(name="Payroll", url=f"{receiver.url}/hooks", events=["completion.recorded"])
    services.subscription_save(actor=None, subscription=subscription)
    services.send_test(actor=org.admin.user, subscription=subscription)
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/webhooks/{subscription.pk}/")
    page.get_by_role("link", name=text["delete"]).click()
    expect(page.get_by_role("heading", name=text["delete"])).to_be_visible()
    expect(page.locator("#deliveries-lost")).to_contain_text("1")
    assert_accessible(page)
    assert Subscription.objects.filter(pk=subscription.pk).exists()  # nothing goes before the confirmation
    page.get_by_role("button", name=text["delete"]).click()
    expect(page.get_by_text(text["deleted"])).to_be_visible()
    assert_accessible(page)
    assert not Subscription.objects.exists() and not WebhookDelivery.objects.exists()
