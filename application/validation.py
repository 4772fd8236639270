"""Turning raw input into value objects, reporting every problem at once rather than the first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.errors import FieldProblem, InvalidInput, MalformedRequest

T = TypeVar("T")


class Problems:
    """Collects field problems while values are parsed; ``raise_if_any`` ends the parsing."""

    def __init__(self) -> None:
        self._found: list[FieldProblem] = []

    def parse(self, parser: Callable[[str, str], T], value: str, field: str) -> T | None:
        try:
            return parser(value, field)
        except InvalidInput as error:
            self._found.extend(error.problems)
            return None

    def run(self, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except InvalidInput as error:
            self._found.extend(error.problems)
            return None

    def add(self, field: str, message: str) -> None:
        self._found.append(FieldProblem(field, message))

    def raise_if_any(self) -> None:
        if self._found:
            raise InvalidInput(self._found)


def check_search(text: str | None) -> None:
    """A search text (``q``) must not contain NUL: no stored text can (PostgreSQL refuses it), so such a
    search is a client's mistake, answered with 400 rather than a database error."""
    if text and "\x00" in text:
        raise MalformedRequest("The search text must not contain NUL characters.")
