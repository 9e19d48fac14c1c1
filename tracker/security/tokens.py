"""Tokens for patients' follow-up links.

A token is 256 bits: HMAC-SHA256 of a random 128-bit nonce under a key
derived from SECRET_KEY. The database keeps the nonce and the token's
SHA-256; a lookup hashes the presented token and finds the row by that hash.
Rotating SECRET_KEY therefore invalidates every outstanding link.
"""

import base64
import hashlib
import secrets

from django.utils.crypto import salted_hmac

_KEY_SALT = "tracker.access-link"


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str) -> str:
    digest = salted_hmac(_KEY_SALT, nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
