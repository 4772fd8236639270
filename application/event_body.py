"""The one encoder of an event's body, ``{"type", "timestamp", "data"}``: webhook deliveries and live changes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def encode_event_body(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """Compact JSON on one line (a Server-Sent Events ``data:`` line needs it), times in RFC 3339 UTC."""
    body: dict[str, Any] = {
        "type": event_type,
        "timestamp": occurred_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
