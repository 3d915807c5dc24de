"""E-mail through Django's mail backend (SMTP in production, see core/mail.py): a text part and
an HTML part, From with a display name, Date in the configured time zone, a Message-ID on
SITE_URL's host, and `Auto-Submitted: auto-generated` (RFC 3834) so that autoresponders stay quiet."""

import smtplib
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from learntrace.core.months import local_zone
from learntrace.notify.channels.base import FAILED, OK, RETRY, UNKNOWN, Message, Outcome
from learntrace.notify.markup import html_body, one_line, plain_text


def sender() -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((name or settings.EMAIL_FROM_NAME, address))


def headers(key: str = "") -> dict:
    found = {"Date": format_datetime(timezone.localtime(timezone.now(), local_zone())),
             "Message-ID": make_msgid(domain=urlsplit(settings.SITE_URL).hostname or "localhost"),
             "Auto-Submitted": "auto-generated"}
    if key:
        found["X-Learntrace-Key"] = key
    return found


def send(channel, message: Message) -> Outcome:
    address = message.recipient.email
    if not address:
        return Outcome(FAILED, error="the person has no e-mail address")
    # The subject on one line; data in the HTML part is escaped (markup.html_body).
    mail = EmailMultiAlternatives(subject=one_line(message.subject), body=plain_text(message.text),
                                  from_email=sender(), to=[address], headers=headers(message.key))
    mail.attach_alternative(html_body(message.text), "text/html")
    try:
        mail.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        return Outcome(FAILED, error=type(exc).__name__)
    except smtplib.SMTPResponseException as exc:
        # 4xx is the server's "try again later"; 5xx is final.
        return Outcome(RETRY if 400 <= exc.smtp_code < 500 else FAILED, error=f"SMTP {exc.smtp_code}")
    except (smtplib.SMTPServerDisconnected, TimeoutError) as exc:
        return Outcome(UNKNOWN, error=type(exc).__name__)
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(RETRY, error=type(exc).__name__)
    return Outcome(OK, answer="accepted by the mail server")
