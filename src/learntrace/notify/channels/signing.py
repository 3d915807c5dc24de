"""The signatures the platforms check, written once so the tests' fake platforms can reuse the
formulas from the documentation rather than from this module."""

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk robot: HMAC-SHA256 keyed with the secret over "timestamp\\nsecret", base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Feishu bot: HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message, base64."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(timestamp_s: int, body: bytes, secret: str) -> str:
    """Generic webhook: "sha256=" and the hex HMAC-SHA256 of "timestamp." followed by the body."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()
