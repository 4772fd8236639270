"""Helpers shared by the row <-> entity mappers."""

from __future__ import annotations

from typing import TypeVar

S = TypeVar("S", bound=str)


def trusted(kind: type[S], value: str) -> S:
    """A value object from a stored value, without validating it again.

    Values were validated when they were written; validating them again on every read would
    cost time and, after a rule is tightened, turn reading old rows into errors.
    """
    return str.__new__(kind, value)


# ``trusted`` without the call, for mappers that run per row: ``stored(kind, value)``.
stored = str.__new__


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere; its own % and _ are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The escape character that contains_pattern uses.
LIKE_ESCAPE = "\\"
