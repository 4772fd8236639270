"""The keys that sign and verify our access tokens, from the settings."""

from __future__ import annotations

import hashlib

from adapters.security.access_tokens import SigningKeys
from crm.settings import Settings


def signing_keys(settings: Settings) -> SigningKeys:
    """CRM_JWT_KEYS when set (rotation: the first signs, all verify); else one key from SECRET_KEY whose id
    follows the secret, so that changing SECRET_KEY invalidates old tokens cleanly."""
    if settings.jwt_keys:
        return SigningKeys({key_id: secret.encode() for key_id, secret in settings.jwt_keys}, settings.jwt_keys[0][0])
    key_id = hashlib.sha256(b"crm-service/access-token-kid/v1" + settings.secret_key.encode()).hexdigest()[:12]
    return SigningKeys.single(settings.secret_key.encode(), key_id)
