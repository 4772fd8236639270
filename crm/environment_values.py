"""How msgspec's conversion of the environment's strings is helped and explained (``crm.settings``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def decode_path(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    # msgspec's dec_hook protocol: NotImplementedError means "not a type this hook converts".
    raise NotImplementedError(kind)


def name_the_variable(message: str, raw: Mapping[str, Any]) -> str:
    """msgspec says ``Expected `int` <= 65535 - at `$.PORT` ``; say ``PORT: expected `int` <= 65535, not '70000'.``"""
    found = re.fullmatch(r"(?s)(.*) - at `\$\.(\w+)`", message)
    if found is None:
        return message
    problem, name = found.groups()
    return f"{name}: {problem[:1].lower()}{problem[1:]}, not {raw.get(name)!r}."
