"""The domain's input rules as JSON Schema, for the OpenAPI document a frontend builds its forms from.

The domain checks these rules itself (domain/values.py, domain/passwords.py); this module only says them
in a form that a client can check before it sends anything. Every pattern is anchored and written in the
subset of regular expressions that ECMAScript (browsers, ajv) and Python (schemathesis) read alike, and
each is at least as strict as the rule it describes: a value valid by the document is accepted by the
service, except for the cases listed in docs/api.md ("What the document cannot say").
"""

from __future__ import annotations

from typing import Any

# Characters the domain refuses in names and other single-line text (domain/values.py): C0 and C1
# controls, the soft hyphen and the other format characters of the Basic Multilingual Plane, line and
# paragraph separators, bidirectional controls, private use, and the non-characters at the end of the
# plane. (Format, private-use and unassigned code points outside this list cannot be listed stably.)
_FORMAT_AND_PRIVATE = (
    r"\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ue000-\uf8ff\ufeff\ufff0-\uffff"
)
_CONTROLS = r"\x00-\x1f\x7f-\x9f" + _FORMAT_AND_PRIVATE
# The same for multi-line text (notes): tab, line feed and carriage return are allowed.
_CONTROLS_BUT_NEWLINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _FORMAT_AND_PRIVATE
# Everything Python's str.strip() and \s treat as white space, beyond the controls above.
_SPACES = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Not blank once trimmed: at least one character that is neither a control nor white space.
PERSON_NAME_PATTERN = rf"^[^{_CONTROLS}]*[^{_CONTROLS}{_SPACES}][^{_CONTROLS}]*$"
EMAIL_PATTERN = rf"^[^@{_CONTROLS}{_SPACES}]{{1,64}}@[^@.{_CONTROLS}{_SPACES}]+(?:\.[^@.{_CONTROLS}{_SPACES}]+)+$"
# Digits and + ( ) . - / with inner spaces, optionally an extension: "+44 20 7946 0958 ext. 12".
PHONE_PATTERN = r"^[0-9+()./-](?:[0-9+() ./-]*[0-9+()./-])?(?: ?(?:[xX]|[eE][xX][tT]\.?) ?[0-9]+)?$"
NOTES_PATTERN = rf"^[^{_CONTROLS_BUT_NEWLINES}]*$"
# One or more entity tags (RFC 9110 §8.8.3), or "*". Our ETags are "<version>.<hex>".
ENTITY_TAGS_PATTERN = r'^(?:\*|(?:W/)?"[\x21\x23-\x7e]+"(?:[ \t]*,[ \t]*(?:W/)?"[\x21\x23-\x7e]+")*)$'
# The ETags the service issues: "<version>.<creation time in microseconds, hex>".
ETAG_PATTERN = r'^"[0-9]+\.[0-9a-f]+"$'
# A format name of our own, so that tools can tell these headers apart from free text.
ENTITY_TAGS_FORMAT = "entity-tags"
# What encode_cursor() issues: unpadded base64url.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"

PERSON_NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 32
NOTES_MAX = 10_000
PASSWORD_MIN = 12
PASSWORD_MAX = 1024


def text_rule(*, min_length: int, max_length: int, pattern: str | None = None) -> dict[str, Any]:
    """The ``extra`` part of a msgspec ``Meta.extra_json_schema``, which Litestar copies onto the schema."""
    rule: dict[str, Any] = {"min_length": min_length, "max_length": max_length}
    if pattern is not None:
        rule["pattern"] = pattern
    return rule


CUSTOMER_ID = text_rule(min_length=1, max_length=64, pattern=CUSTOMER_ID_PATTERN)
PERSON_NAME = text_rule(min_length=1, max_length=PERSON_NAME_MAX, pattern=PERSON_NAME_PATTERN)
EMAIL = text_rule(min_length=5, max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)
PHONE = text_rule(min_length=1, max_length=PHONE_MAX, pattern=PHONE_PATTERN)
NOTES = text_rule(min_length=0, max_length=NOTES_MAX, pattern=NOTES_PATTERN)
PASSWORD = text_rule(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
