"""The one place where database constraint violations become domain errors.

The database is the last line of defence for uniqueness (two requests can both pass the use
case's own check): its violations are recognised by constraint name, named here and used by the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.exc import IntegrityError

from domain.errors import Conflict

# The constraints whose violations are conflicts; the tables take their names from here.
CUSTOMERS_PRIMARY_KEY = "pk_customers"
USERS_ACTIVE_EMAIL_UNIQUE = "uq_users_email_key_active"

DUPLICATE_CUSTOMER = "A customer with this id already exists."
DUPLICATE_EMAIL = "A user with this e-mail already exists."

_CONFLICTS = {
    CUSTOMERS_PRIMARY_KEY: DUPLICATE_CUSTOMER,
    USERS_ACTIVE_EMAIL_UNIQUE: DUPLICATE_EMAIL,
}


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the violated constraint, from the driver's exception.

    SQLAlchemy wraps asyncpg's exception in an adapter exception; the original one, which
    carries ``constraint_name``, is its ``orig`` (SQLAlchemy 2.1) or its ``__cause__`` (2.0).
    """
    adapted = error.orig
    for candidate in (adapted, getattr(adapted, "orig", None), getattr(adapted, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if isinstance(name, str):
            return name
    return None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn known integrity errors raised inside the block into domain errors; re-raise the rest."""
    try:
        yield
    except IntegrityError as error:
        detail = _CONFLICTS.get(constraint_name(error) or "")
        if detail is None:
            raise
        raise Conflict(detail) from error
    except asyncpg.IntegrityConstraintViolationError as error:
        # From statements run on asyncpg directly (adapters/sql/raw_reads.py).
        detail = _CONFLICTS.get(getattr(error, "constraint_name", None) or "")
        if detail is None:
            raise
        raise Conflict(detail) from error
