"""Who may do what. Kept in the core so that every driving adapter gets the same answers.

Every signed-in user, admin or not, may manage customers (the contract); managing users, webhooks and
API keys, and erasing customers, is for admins. An API key acts only on customers, as far as its scopes
allow, and never as an admin.
"""

from __future__ import annotations

from domain.api_keys import ApiKeyScope
from domain.errors import InsufficientScope, PermissionDenied
from domain.sign_in import Actor

NOT_FOR_API_KEYS = "API keys may only read and write customers; this needs a signed-in user."


def require_admin(actor: Actor, detail: str = "Only admins may manage users.") -> None:
    """Managing users, webhooks and API keys, and erasing customers, is for admins only."""
    require_person(actor)
    if not actor.is_admin:
        raise PermissionDenied(detail)


def require_person(actor: Actor) -> None:
    """What only a signed-in user may do: anything but reading and writing customers."""
    if actor.is_api_key:
        raise InsufficientScope(NOT_FOR_API_KEYS)


def require_scope(actor: Actor, scope: ApiKeyScope) -> None:
    """People may read and write customers; an API key only with the scope for it."""
    if actor.api_key_scopes is not None and scope not in actor.api_key_scopes:
        raise InsufficientScope(f"This API key lacks the scope {scope.value}.")


def may_read_customers(actor: Actor) -> None:
    require_scope(actor, ApiKeyScope.CUSTOMERS_READ)


def may_write_customers(actor: Actor) -> None:
    require_scope(actor, ApiKeyScope.CUSTOMERS_WRITE)
