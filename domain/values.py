"""Value objects: small validated strings that carry their rules with them.

Each is a ``str`` subclass, so it can go straight into SQL parameters and JSON, while its type
says that it passed validation.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidInput

_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_control_characters(text: str, *, allow_newlines: bool = False) -> bool:
    for char in text:
        if allow_newlines and char in "\n\t\r":
            continue
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            return True
    return False


def _bounded_text(field: str, value: str, *, maximum: int, allow_newlines: bool = False) -> str:
    if len(value) > maximum:
        raise InvalidInput.single(field, f"must be at most {maximum} characters")
    if has_control_characters(value, allow_newlines=allow_newlines):
        raise InvalidInput.single(field, "must not contain control characters")
    return value


class CustomerId(str):
    """The shop's own identifier of a customer, e.g. ``C-0001``; immutable once given."""

    PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    __slots__ = ()

    def __new__(cls, value: str, field: str = "id") -> CustomerId:
        if not cls.PATTERN.fullmatch(value):
            raise InvalidInput.single(
                field,
                "must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit",
            )
        return super().__new__(cls, value)


class PersonName(str):
    """A name or surname: trimmed, 1-100 characters, no control characters."""

    MAX_LENGTH = 100
    __slots__ = ()

    def __new__(cls, value: str, field: str = "name") -> PersonName:
        trimmed = value.strip()
        if not trimmed:
            raise InvalidInput.single(field, "must not be empty")
        return super().__new__(cls, _bounded_text(field, trimmed, maximum=cls.MAX_LENGTH))


class Email(str):
    """An e-mail address, trimmed; compared case-insensitively through ``key``."""

    MAX_LENGTH = 254
    # Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces or controls.
    PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
    __slots__ = ()

    def __new__(cls, value: str, field: str = "email") -> Email:
        trimmed = value.strip()
        _bounded_text(field, trimmed, maximum=cls.MAX_LENGTH)
        if not cls.PATTERN.fullmatch(trimmed):
            raise InvalidInput.single(field, "must be a valid e-mail address")
        return super().__new__(cls, trimmed)

    @property
    def key(self) -> str:
        """The form used for uniqueness and look-ups."""
        return self.casefold()


class Phone(str):
    MAX_LENGTH = 32
    PATTERN = re.compile(r"[0-9+() .\-/]+(?:\s*(?:x|ext\.?)\s*[0-9]+)?", re.IGNORECASE)
    __slots__ = ()

    def __new__(cls, value: str, field: str = "phone") -> Phone:
        trimmed = value.strip()
        _bounded_text(field, trimmed, maximum=cls.MAX_LENGTH)
        if not trimmed or not cls.PATTERN.fullmatch(trimmed):
            raise InvalidInput.single(field, "must be a phone number of digits, spaces and + ( ) . - /")
        return super().__new__(cls, trimmed)


class Notes(str):
    MAX_LENGTH = 10_000
    __slots__ = ()

    def __new__(cls, value: str, field: str = "notes") -> Notes:
        return super().__new__(cls, _bounded_text(field, value, maximum=cls.MAX_LENGTH, allow_newlines=True))


def search_key(*parts: str | None) -> str:
    """Case- and accent-insensitive form of text for searching: 'Zoë Ångström' -> 'zoe angstrom'."""
    joined = " ".join(part for part in parts if part)
    decomposed = unicodedata.normalize("NFKD", joined)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold()
