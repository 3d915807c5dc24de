"""Outgoing e-mail over SMTP that follows what the server announces: 8-bit bodies only to a
server that offers 8BITMIME, and then declared (`MAIL FROM … BODY=8BITMIME`, RFC 6152);
any other server receives every text part quoted-printable, in 7-bit."""

import smtplib
from email import charset as email_charset
from email.message import Message

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

QUOTED_PRINTABLE = email_charset.Charset("utf-8")
QUOTED_PRINTABLE.body_encoding = email_charset.QP


def _has_8bit(message: Message) -> bool:
    return any(part.get("Content-Transfer-Encoding", "").lower() == "8bit" for part in message.walk())


def to_7bit(message: Message) -> None:
    """Re-encode every 8-bit text part as quoted-printable (the text itself unchanged)."""
    for part in message.walk():
        if part.is_multipart() or part.get("Content-Transfer-Encoding", "").lower() != "8bit":
            continue
        text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        del part["Content-Transfer-Encoding"]
        part.set_payload(text, QUOTED_PRINTABLE)


class EmailBackend(SmtpBackend):
    def _send(self, email_message):
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email_message.recipients()]
        message = email_message.message()
        self.connection.ehlo_or_helo_if_needed()
        options = []
        if _has_8bit(message):
            if self.connection.has_extn("8bitmime"):
                options = ["BODY=8BITMIME"]
            else:
                to_7bit(message)
        try:
            self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\r\n"), mail_options=options)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
