"""What can go wrong in the CRM's own terms. The HTTP adapter maps each kind to a status code."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str


class InvalidInput(DomainError):
    """One or more values break a rule of the domain (422)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldProblem(field, message)])


class MalformedRequest(DomainError):
    """The request cannot be understood at all, e.g. a cursor that we never issued (400)."""


class ContentTooLarge(DomainError):
    """A body or file bigger than its limit allows (413)."""


class UnsupportedContent(DomainError):
    """A body or file of a kind the service does not take, whatever it claims to be (415)."""


class NotFound(DomainError):
    """The thing asked for does not exist, or is hidden from the caller (404)."""


class Conflict(DomainError):
    """The change would break a uniqueness or consistency rule (409)."""


class PreconditionFailed(DomainError):
    """The caller's copy is out of date (412)."""


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this (403)."""


class InsufficientScope(PermissionDenied):
    """An API key asked for something its scopes do not cover, or that no key may do (403)."""


class NotAuthenticated(DomainError):
    """No valid credentials for a protected operation (401)."""


class InvalidGrant(DomainError):
    """An OAuth 2.0 grant failed: wrong credentials, unknown user, bad or reused refresh token."""


class TooManyAttempts(DomainError):
    """Too many failed sign-ins; try again after ``retry_after`` seconds (429)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A dependency we rely on (database, photo storage) did not answer (503), perhaps with the seconds after
    which trying again makes sense."""

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class QuotaExceeded(DomainError):
    """The caller has used up what a fair-use policy allows; nothing was done (429)."""

    def __init__(self, detail: str, violated_policies: tuple[str, ...], retry_after: int) -> None:
        super().__init__(detail)
        self.violated_policies = violated_policies
        self.retry_after = retry_after
