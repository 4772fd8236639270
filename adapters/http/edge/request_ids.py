"""A request id on every request: the client's when it is sane, else a new one."""

from __future__ import annotations

import random
import re
from typing import Any

_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_KEY = "crm.request_id"


def request_id_of(scope: Any) -> str:
    """The id of the request in ``scope``, decided once and then remembered in the scope."""
    if (known := scope.get(_KEY)) is not None:
        return str(known)
    chosen = None
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _SANE.fullmatch(value):
            chosen = value.decode()
            break
    # 128 random bits as 32 hex digits, like a UUID4's hex without building a UUID. A request id only
    # correlates log lines and answers, it guards nothing: Python's generator is enough, and takes no
    # system call per request as os.urandom does.
    scope[_KEY] = chosen or f"{random.getrandbits(128):032x}"
    return str(scope[_KEY])
