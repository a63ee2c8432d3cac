"""Encryption at rest for Shopify access and refresh tokens (Fernet, settings.TOKEN_ENCRYPTION_KEY).

A database dump or backup must not hand out working credentials for every store, so tokens
are only ever stored encrypted and decrypted at the moment a request needs them.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class TokenDecryptionError(Exception):
    """A stored token could not be decrypted: the key changed or the value is corrupt."""


def _fernet() -> Fernet:
    return Fernet(settings.TOKEN_ENCRYPTION_KEY.encode())


def encrypt_token(plaintext: str) -> str:
    """Encrypt a token for storage; an empty token stays empty (nothing to hide)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    """Decrypt a stored token; raises TokenDecryptionError if the key does not fit."""
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise TokenDecryptionError(
            "a stored Shopify token could not be decrypted; was TOKEN_ENCRYPTION_KEY changed?"
        ) from exc
