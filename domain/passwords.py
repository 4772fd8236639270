"""The password policy: long enough, not absurdly long, not commonly used."""

from __future__ import annotations

from functools import cache
from importlib import resources

from domain.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, field: str = "password") -> None:
    """Raise ``InvalidInput`` unless ``password`` may be used. Cheap: runs before any hashing."""
    if len(password) > MAX_LENGTH:
        raise InvalidInput.single(field, f"must be at most {MAX_LENGTH} characters")
    if len(password) < MIN_LENGTH:
        raise InvalidInput.single(field, f"must be at least {MIN_LENGTH} characters")
    folded = password.casefold()
    # "password1234!" is as guessable as "password": look at the word without its decorations too.
    root = folded.rstrip("0123456789!@#$%^&*?.-_ ")
    if folded in _common_passwords() or root in _common_passwords() or len(set(folded)) <= 3:
        raise InvalidInput.single(field, "is too common; choose a less predictable password")
