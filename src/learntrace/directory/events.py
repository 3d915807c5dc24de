"""Change events pushed by the platforms, checked and opened.

DingTalk and WeCom share one scheme: a SHA-1 signature over the token, timestamp, nonce and the
encrypted message (sorted), and AES-256-CBC with the key from the 43-character EncodingAESKey, the IV
its first 16 bytes, padding to 32 bytes, and the plain text framed as 16 random bytes, a 4-byte length,
the message and the receiver's id (WeCom's corp id, DingTalk's app key).

Feishu signs the raw body with SHA-256 over timestamp + nonce + encrypt key + body, and encrypts with
AES-256-CBC under the SHA-256 of the encrypt key, the IV prefixed to the cipher text.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class BadMessage(Exception):
    """The message is not from the platform: wrong signature, or it does not decrypt."""


def _aes_cbc(key: bytes, iv: bytes):
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _unpad(data: bytes, block_bits: int) -> bytes:
    unpadder = padding.PKCS7(block_bits).unpadder()
    try:
        return unpadder.update(data) + unpadder.finalize()
    except ValueError:
        raise BadMessage("padding") from None


# ---------------------------------------------------------------- DingTalk and WeCom


def msg_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def check_msg_signature(token: str, timestamp: str, nonce: str, encrypted: str, signature: str) -> None:
    if not (token and signature) or not hmac.compare_digest(msg_signature(token, timestamp, nonce, encrypted),
                                                            signature.lower()):
        raise BadMessage("signature")


def _msg_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage("key") from None
    if len(key) != 32:
        raise BadMessage("key")
    return key


def msg_decrypt(encoding_aes_key: str, encrypted: str, receiver_id: str) -> bytes:
    key = _msg_key(encoding_aes_key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage("base64") from None
    if not data or len(data) % 16:
        raise BadMessage("length")
    decryptor = _aes_cbc(key, key[:16]).decryptor()
    plain = _unpad(decryptor.update(data) + decryptor.finalize(), 256)
    if len(plain) < 20:
        raise BadMessage("frame")
    (length,) = struct.unpack(">I", plain[16:20])
    message, receiver = plain[20:20 + length], plain[20 + length:]
    if len(message) != length or not hmac.compare_digest(receiver, receiver_id.encode()):
        raise BadMessage("receiver")
    return message


def msg_encrypt(encoding_aes_key: str, message: bytes, receiver_id: str, *, random16: bytes | None = None) -> str:
    key = _msg_key(encoding_aes_key)
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + receiver_id.encode()
    padder = padding.PKCS7(256).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = _aes_cbc(key, key[:16]).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


# ---------------------------------------------------------------- Feishu


def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def check_feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes, signature: str) -> None:
    if not (encrypt_key and signature and timestamp and nonce) or not hmac.compare_digest(
            feishu_signature(timestamp, nonce, encrypt_key, body), signature.lower()):
        raise BadMessage("signature")


def feishu_decrypt(encrypt_key: str, encrypted: str) -> dict:
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage("base64") from None
    if len(data) < 32 or len(data) % 16:
        raise BadMessage("length")
    key = hashlib.sha256(encrypt_key.encode()).digest()
    decryptor = _aes_cbc(key, data[:16]).decryptor()
    plain = _unpad(decryptor.update(data[16:]) + decryptor.finalize(), 128)
    try:
        event = json.loads(plain)
    except (UnicodeDecodeError, ValueError):
        raise BadMessage("json") from None
    if not isinstance(event, dict):
        raise BadMessage("json")
    return event


def feishu_encrypt(encrypt_key: str, event: dict) -> str:
    """What Feishu sends (the tests play Feishu with it)."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(json.dumps(event).encode()) + padder.finalize()
    encryptor = _aes_cbc(key, iv).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()
