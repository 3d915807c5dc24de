"""Which addresses a webhook may be sent to. An admin types the URL, and the server sends to it:
without a check, a subscription to http://127.0.0.1:5432/ or to a cloud's metadata address would
make learntrace probe its own network (server-side request forgery). Only http(s) is allowed, and
every address the host name resolves to must be public, unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES
says the receivers live on the private network (and the tests, which receive on 127.0.0.1).

The check is made when the subscription is saved and again before every send (a name may
resolve elsewhere later); redirects are never followed."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(ValueError):
    """The URL may not receive webhooks; the message says why, in the admin's language."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Raises AddressRefused unless webhooks may be sent to this URL now."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(_("Only http:// and https:// addresses can receive webhooks."))
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AddressRefused(_("The port of this address is not valid.")) from None
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(_("The host name %(host)s could not be resolved.") % {"host": parts.hostname}) from None
    if not found or not all(_public(str(info[4][0])) for info in found):
        raise AddressRefused(_(
            "%(host)s is a private, loopback or reserved address: webhooks go only to public addresses "
            "(see WEBHOOKS_ALLOW_PRIVATE_ADDRESSES).") % {"host": parts.hostname})
