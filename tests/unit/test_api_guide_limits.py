"""Every limit docs/api.md states is the one the code uses: each number is read from the guide and compared with
the constant, default or schema the service enforces. A guide that drops or rewords a limit fails here too, so the
sentence and this table move together."""

from __future__ import annotations

import base64
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.config.cors import CORSConfig

from adapters.http.access.user_schemas import UserCreate
from adapters.http.app import JSON_BODY_LIMIT
from adapters.http.customers.schemas import CustomerCreate
from adapters.http.edge import request_ids
from adapters.http.openapi import field_rules
from adapters.security.oidc.verification import OidcIdentityProviders
from application.access.sign_in_throttle import ThrottlePolicy
from application.customers.exporting import EXPORT_BATCH_SIZE
from application.customers.importing import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from application.customers.photo_rules import PhotoLimits
from application.idempotency import KEEP_FOR, WAIT_SECONDS
from crm.app import build_asgi_app
from crm.container import build_container
from crm.settings import Settings
from domain import passwords
from domain.api_keys import SHOWN_PREFIX_LENGTH, new_key_secret

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
MiB = 1024 * 1024
DEFAULTS = Settings()


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _document(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(environment="test", secret_key="limits-" + "x" * 40, photo_dir=tmp_path)
    app, _ = build_asgi_app(build_container(settings, in_memory=True), None)
    document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (parameter,) = [item for item in document["paths"][path]["get"]["parameters"] if item["name"] == name]
    schema: dict[str, Any] = parameter["schema"]
    return schema


def _max_length(struct: type[msgspec.Struct], field: str) -> int:
    (info,) = [item for item in msgspec.inspect.type_info(struct).fields if item.name == field]  # type: ignore[attr-defined]
    kind = info.type
    while not isinstance(kind, msgspec.inspect.StrType):
        # Metadata around the type; an optional field's union with null.
        kind = kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind.types[0]
    assert kind.max_length is not None
    return kind.max_length


def _key_bytes() -> int:
    secret = new_key_secret().key.removeprefix("crm_")
    return len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)))


def _request_id_lengths() -> list[int]:
    found = re.search(r"\{(\d+),(\d+)\}", request_ids._SANE.pattern.decode())
    assert found is not None
    return [int(found.group(1)), int(found.group(2))]


POLICY = ThrottlePolicy()
OIDC_LEEWAY = inspect.signature(OidcIdentityProviders.__init__).parameters["leeway"].default

# (a sentence of the guide with its numbers as groups, the numbers the code uses)
CLAIMS: list[tuple[str, Callable[[], list[int]]]] = [
    (r"which is\s+(\d+) minutes by default", lambda: [DEFAULTS.access_token_minutes]),
    (
        r"refresh token lives up to (\d+) days\. A sign-in session ends (\d+) days",
        lambda: [DEFAULTS.refresh_token_days, DEFAULTS.session_days],
    ),
    (r"checked with (\d+) s of leeway", lambda: [int(OIDC_LEEWAY.total_seconds())]),
    (r"`X-Request-ID` \((\d+)\N{EN DASH}(\d+) characters", _request_id_lengths),
    (r"JSON body over (\d+) MiB", lambda: [JSON_BODY_LIMIT // MiB]),
    (r"JSON bodies are limited to (\d+) MiB", lambda: [JSON_BODY_LIMIT // MiB]),
    (
        r"limited while decoding: ([\d,]+) characters, ([\d,]+)\s+for `notes` and ([\d,]+) for passwords",
        lambda: [
            _max_length(CustomerCreate, "name"),
            _max_length(CustomerCreate, "notes"),
            _max_length(UserCreate, "password"),
        ],
    ),
    (r"`notes`: optional, at most ([\d,]+) characters", lambda: [field_rules.NOTES_MAX]),
    (r"`email`: optional\. It is trimmed, at most (\d+) characters", lambda: [field_rules.EMAIL_MAX]),
    (r"`phone`: optional\. It is trimmed, at most (\d+) characters", lambda: [field_rules.PHONE_MAX]),
    (
        r"`name`, `surname`: required\. They are trimmed, must be 1\N{EN DASH}(\d+) characters",
        lambda: [field_rules.PERSON_NAME_MAX],
    ),
    (
        r"A deleted customer waits in the trash for `CRM_TRASH_DAYS` \(default (\d+)\) days",
        lambda: [DEFAULTS.trash_days],
    ),
    (r"keyset batches of ([\d,]+) customers", lambda: [EXPORT_BATCH_SIZE]),
    (r"Limits: (\d+) MiB and ([\d,]+) rows", lambda: [MAX_IMPORT_BYTES // MiB, MAX_IMPORT_ROWS]),
    (r"at most (\d+) MiB and ([\d,]+) rows, whose rows", lambda: [MAX_IMPORT_BYTES // MiB, MAX_IMPORT_ROWS]),
    (r"more pixels than allowed \((\d+)\s+megapixels by default\)", lambda: [DEFAULTS.photo_max_pixels // 1_000_000]),
    (r"Over the size limit \((\d+) MiB by default\)", lambda: [DEFAULTS.photo_max_bytes // MiB]),
    (r"at most (\d+) px on a side", lambda: [PhotoLimits().max_dimension]),
    (r"thumbnail of at most (\d+) px", lambda: [PhotoLimits().thumbnail_size]),
    (r"valid for (\d+) minutes by default", lambda: [DEFAULTS.photo_url_lifetime_seconds // 60]),
    (
        r"at least (\d+) and at most (\d+) characters\. A longer one",
        lambda: [passwords.MIN_LENGTH, passwords.MAX_LENGTH],
    ),
    (
        r"`crm_` and (\d+) random bytes in unpadded base64url, (\d+) characters in all",
        lambda: [_key_bytes(), len(new_key_secret().key)],
    ),
    (r"`prefix` is the key's first (\d+) characters \(", lambda: [SHOWN_PREFIX_LENGTH]),
    (r"They are cached for (\d+) s", lambda: [CORSConfig().max_age]),
    (
        r"(\d+) failures for one e-mail address from one client address, per (\d+)-minute window",
        lambda: [POLICY.per_account_and_client, int(POLICY.window.total_seconds() // 60)],
    ),
    (
        r"(\d+) failures from one client address, per (\d+)-minute window",
        lambda: [POLICY.per_client, int(POLICY.window.total_seconds() // 60)],
    ),
    (
        r"(\d+) failures for one e-mail address, per one-(hour) window",
        lambda: [POLICY.per_account, int(POLICY.account_window.total_seconds() // 3600)],
    ),
    (r"waits up to (\d+) s for its answer", lambda: [int(WAIT_SECONDS)]),
    (r"may be used again within (\d+) hours", lambda: [int(KEEP_FOR.total_seconds() // 3600)]),
]


@pytest.mark.parametrize(("sentence", "code"), CLAIMS, ids=[sentence[:40] for sentence, _ in CLAIMS])
def test_each_limit_in_the_guide_is_the_codes(sentence: str, code: Callable[[], list[int]]) -> None:
    found = re.search(sentence, GUIDE)
    assert found is not None, f"docs/api.md no longer says {sentence!r}: update the sentence here with the guide"
    stated = [1 if group == "hour" else _number(group) for group in found.groups()]
    assert stated == code(), f"docs/api.md says {found.group(0)!r}; the code uses {code()}"


def test_the_limits_in_the_document_are_the_guides(tmp_path: Path) -> None:
    document = _document(tmp_path)
    limit = _parameter(document, "/api/v1/customers", "limit")
    found = re.search(r"`limit` is between (\d+) and (\d+) and defaults to (\d+)", GUIDE)
    assert found is not None
    assert [int(group) for group in found.groups()] == [limit["minimum"], limit["maximum"], limit["default"]]
    customers, users = re.findall(r"`q` is at most (\d+) characters", GUIDE)
    assert int(customers) == _parameter(document, "/api/v1/customers", "q")["maxLength"]
    assert int(users) == _parameter(document, "/api/v1/users", "q")["maxLength"]
