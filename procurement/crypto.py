"""Encryption of sensitive values at rest (DOMAIN §9).

The key comes from configuration (``DATA_ENCRYPTION_KEY``, a Fernet key), never
from the database.  A second key derived from it makes keyed hashes for exact
lookups of encrypted values without decrypting them.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["DATA_ENCRYPTION_KEY"].encode())


def encrypt(plain: str | None) -> str | None:
    if plain is None:
        return None
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # wrong key: a configuration error, not user input
        raise RuntimeError("cannot decrypt: DATA_ENCRYPTION_KEY does not match the data") from exc


def keyed_hash(value: str) -> str:
    key = hashlib.sha256(b"lookup:" + base64.urlsafe_b64decode(current_app.config["DATA_ENCRYPTION_KEY"])).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def valid_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True
