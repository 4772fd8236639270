"""ETags and the If-Match / If-None-Match preconditions (RFC 9110 §13)."""

from __future__ import annotations

from domain.customers import Customer


def etag_of(customer: Customer) -> str:
    return f'"{customer.revision}"'


def parse_entity_tags(header: str | None) -> list[str] | None:
    """The revisions listed in an If-Match / If-None-Match header; None when the header is absent."""
    if header is None:
        return None
    tags = []
    for part in header.split(","):
        tag = part.strip().removeprefix("W/").strip('"')
        if tag:
            tags.append(tag)
    return tags
