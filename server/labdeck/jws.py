"""Short-lived bearer tokens signed with a resource's key: JSON Web Signatures in the
compact form of RFC 7515, HS256 only (what Spark's `org.apache.spark.ui.JWSFilter` and
other servers labdeck starts check before answering).

A token proves it was made by someone holding the key and says when it expires; a
server that requires `exp` refuses it after that, so one that leaks is soon worthless.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time

HEADER = {"alg": "HS256", "typ": "JWT"}
TOKEN_SECONDS = 60


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515, section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A random 256-bit HS256 key, base64url-encoded."""
    return b64url(secrets.token_bytes(32))


def derive_key(secret: str, purpose: str) -> str:
    """A 256-bit key for one purpose, derived from a resource's secret (HMAC-SHA256):
    whoever holds the secret can make it, and the key gives the secret away to no one."""
    return b64url(hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest())


def signature(key: str, signing_input: str) -> str:
    """The HS256 signature of `<header>.<payload>` with a base64url key."""
    return b64url(hmac.new(b64url_decode(key), signing_input.encode(), hashlib.sha256).digest())


def sign(key: str, claims: dict) -> str:
    """`<header>.<payload>.<signature>` for these claims."""
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (HEADER, claims)
    )
    return f"{signing_input}.{signature(key, signing_input)}"


def bearer(key: str, seconds: float = TOKEN_SECONDS, now=time.time) -> str:
    """An `Authorization` header value whose token expires in `seconds`."""
    return "Bearer " + sign(key, {"exp": int(now() + seconds)})
