from __future__ import annotations

import secrets
import uuid

from application.ports.system import IdGenerator


class RandomIds(IdGenerator):
    def new_id(self) -> uuid.UUID:
        return uuid.uuid4()

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)
