"""The in-app notification behind the bell: a row the person reads in learntrace."""

from urllib.parse import urlsplit

from learntrace.notify.channels.base import OK, Message, Outcome


def send(channel, message: Message) -> Outcome:
    from learntrace.notify.models import Notification

    parts = urlsplit(message.link)
    local_link = parts.path + (f"?{parts.query}" if parts.query else "")
    Notification.objects.get_or_create(
        delivery_id=message.extra["delivery_id"],
        defaults={"employee": message.recipient, "subject": message.subject, "text": message.text,
                  "link": local_link})
    return Outcome(OK, answer="stored")
