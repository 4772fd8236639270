"""Who may do what. Kept in the core so that every driving adapter gets the same answers.

Every signed-in user, admin or not, may manage customers (the contract); only user management is
restricted, to admins.
"""

from __future__ import annotations

from domain.errors import PermissionDenied
from domain.sign_in import Actor


def require_admin(actor: Actor, detail: str = "Only admins may manage users.") -> None:
    """Managing users, and erasing customers, is for admins only."""
    if not actor.is_admin:
        raise PermissionDenied(detail)
