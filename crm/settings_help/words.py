"""The words of one row of the table of settings."""

from __future__ import annotations

from typing import NamedTuple


class Help(NamedTuple):
    meaning: str
    default: str = ""
    allowed: str = ""
    production: str = "—"
