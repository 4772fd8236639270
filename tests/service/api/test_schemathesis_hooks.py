"""The schemathesis filter drops only the failures that docs/api.md names, and keeps every other one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.service.api.schemathesis_hooks import filter_failure


def _case(operation: str, body: Any = None, query: Any = None, headers: Any = None, path: Any = None) -> Any:
    definition = SimpleNamespace(raw={"operationId": operation})
    return SimpleNamespace(
        operation=SimpleNamespace(definition=definition), body=body, query=query, headers=headers, path_parameters=path
    )


def _response(status: int, problem: dict[str, Any] | None = None) -> Any:
    return SimpleNamespace(status_code=status, json=lambda: problem or {})


def _errors(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"status": 422, "errors": [{"field": field, "message": message} for field, message in pairs]}


REJECTED = SimpleNamespace(code="ST202")
ACCEPTED = SimpleNamespace(code="ST201")


def _kept(failure: Any, case: Any, response: Any) -> bool:
    return bool(filter_failure(None, failure, case, response))


def test_named_cases_are_dropped() -> None:
    weak = _case("createUser", body={"email": "a@b.co", "name": "Al", "password": "000000000000"})
    assert not _kept(REJECTED, weak, _response(422, _errors(("password", "is too common; choose another"))))
    cursor = _case("listCustomers", query={"cursor": "abc"})
    assert not _kept(REJECTED, cursor, _response(400, {"detail": "The cursor is not valid."}))
    unassigned = _case("createCustomer", body={"id": "C-1", "name": "Ada\U000e0001", "surname": "L"})
    assert not _kept(REJECTED, unassigned, _response(422, _errors(("name", "must not contain control characters"))))
    stale = _case("updateCustomer", body={}, headers={"If-Match": '"1.a"'})
    assert not _kept(REJECTED, stale, _response(412))
    assert not _kept(REJECTED, _case("importCustomers", query={"mode": "create"}), _response(415))
    past = _case("createApiKey", body={"name": "0", "scopes": ["customers:read"], "expires_at": "2000-01-01T00:00:00Z"})
    assert not _kept(REJECTED, past, _response(422, _errors(("expires_at", "must be in the future"))))


def test_everything_else_is_kept() -> None:
    bad_email = _case("createCustomer", body={"id": "C-1", "name": "Ada", "surname": "L", "email": "ada@"})
    assert _kept(REJECTED, bad_email, _response(422, _errors(("email", "must be a valid e-mail address"))))
    # One unexplained reason among explained ones keeps the failure.
    mixed = _case("createUser", body={"email": "ada@", "name": "Al", "password": "000000000000"})
    errors = _errors(("password", "is too common; choose another"), ("email", "must be a valid e-mail address"))
    assert _kept(REJECTED, mixed, _response(422, errors))
    # A control character the document does list is the document's fault, not an excused case.
    assert _kept(
        REJECTED,
        _case("createCustomer", body={"id": "C-1", "name": "Ada", "surname": "L"}),
        _response(422, _errors(("name", "must not contain control characters"))),
    )
    assert _kept(REJECTED, _case("listCustomers", query={"q": "x"}), _response(400, {"detail": "Unknown query"}))
    assert _kept(ACCEPTED, _case("updateUser", body={"is_admin": True, "name": ""}), _response(200))
    # Booleans are strict now: an accepted 0 or "null" is a failure, no longer the excused `lax-boolean`.
    assert _kept(ACCEPTED, _case("updateUser", body={"is_admin": 0}), _response(200))
    assert _kept(ACCEPTED, _case("listUsers", query={"is_admin": "null"}), _response(200))
    assert _kept(SimpleNamespace(code="ST101"), _case("listCustomers"), _response(500))
    assert _kept(REJECTED, _case("importCustomers", query={"mode": "create"}), _response(400))
    future = _case(
        "createApiKey", body={"name": "0", "scopes": ["customers:read"], "expires_at": "2999-01-01T00:00:00Z"}
    )
    assert _kept(REJECTED, future, _response(422, _errors(("expires_at", "must be in the future"))))
