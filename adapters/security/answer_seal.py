"""Stored Idempotency-Key answers, encrypted with AES-256-GCM under a key derived from SECRET_KEY."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.ports.idempotency import AnswerSeal

_NONCE_BYTES = 12
# Its own key, so that no other use of SECRET_KEY ever shares it.
_PURPOSE = b"crm-service/idempotent-answers/v1"


class AesGcmAnswerSeal(AnswerSeal):
    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, body: bytes, record: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, body, record.encode())

    def open(self, sealed: bytes, record: str) -> bytes | None:
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], record.encode())
        except (InvalidTag, ValueError):
            return None
