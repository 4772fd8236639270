"""ETags and the If-Match / If-None-Match preconditions (RFC 9110 §13)."""

from __future__ import annotations

import re

from adapters.http.openapi.field_rules import ENTITY_TAGS_PATTERN
from domain.customers import Customer
from domain.errors import MalformedRequest

_ENTITY_TAGS = re.compile(ENTITY_TAGS_PATTERN.removesuffix("$") + r"\Z")
_OPAQUE_TAG = re.compile(r'"([^"]*)"')


def etag_of(customer: Customer) -> str:
    return f'"{customer.revision}"'


def parse_entity_tags(header: str | None) -> list[str] | None:
    """The revisions listed in an If-Match / If-None-Match header; None when the header is absent.

    A header that is present but lists no well-formed entity tag is refused (400) rather than read as
    "matches nothing": an empty or unquoted value is a client bug worth reporting, not a stale ETag.
    """
    if header is None:
        return None
    header = header.strip()
    if not _ENTITY_TAGS.match(header):
        raise MalformedRequest('If-Match and If-None-Match take "*" or quoted ETags, such as "3.6610225118d00".')
    return ["*"] if header == "*" else _OPAQUE_TAG.findall(header)
