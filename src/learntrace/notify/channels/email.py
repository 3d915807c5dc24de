"""E-mail through Django's mail backend (SMTP in production)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from learntrace.notify.channels.base import FAILED, OK, RETRY, UNKNOWN, Message, Outcome
from learntrace.notify.markup import one_line, plain_text


def send(channel, message: Message) -> Outcome:
    address = message.recipient.email
    if not address:
        return Outcome(FAILED, error="the person has no e-mail address")
    # Plain text only: no HTML part that data could add markup to; the subject on one line.
    mail = EmailMessage(subject=one_line(message.subject), body=plain_text(message.text),
                        from_email=settings.DEFAULT_FROM_EMAIL, to=[address], headers={"X-Learntrace-Key": message.key})
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
