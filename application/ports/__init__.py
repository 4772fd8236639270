"""What the use cases need from the outside world, one module per concern. Adapters implement these.

- ``persistence``: the repositories and the unit of work that holds them in one transaction (with
  ``sign_in_sessions``, ``webhooks`` and ``api_keys``, the repositories of their own concern);
- ``security``: who is behind a request, password hashes, our own access tokens;
- ``identity_providers``: the OpenID Connect providers users may sign in with;
- ``photos``: where photo objects are stored and how uploads are made safe to show;
- ``throttle``: the shared count of failed sign-ins;
- ``system``: the clock and the source of ids and secrets.

Ports are abstract base classes rather than Protocols so that a missing method fails loudly at
construction and so that frameworks that check injected values with ``isinstance`` accept them.
"""

# New code imports from the concern's module. These names stay importable from the package itself so
# that code written against the former single ``application/ports.py`` keeps working.
from application.ports.identity_providers import IdentityProviders, SignInProvider, VerifiedIdentity
from application.ports.persistence import (
    CustomerHistory,
    CustomerListQuery,
    CustomerRepository,
    CustomerSortField,
    UnitOfWork,
    UnitOfWorkFactory,
    UserListQuery,
    UserRepository,
)
from application.ports.security import AccessClaims, AccessTokens, ActorLookup, IssuedToken, PasswordHasher
from application.ports.sign_in_sessions import SignInSessionRepository
from application.ports.system import Clock, IdGenerator
from application.ports.throttle import SignInThrottle

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "ActorLookup",
    "Clock",
    "CustomerHistory",
    "CustomerListQuery",
    "CustomerRepository",
    "CustomerSortField",
    "IdGenerator",
    "IdentityProviders",
    "IssuedToken",
    "PasswordHasher",
    "SignInProvider",
    "SignInSessionRepository",
    "SignInThrottle",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserListQuery",
    "UserRepository",
    "VerifiedIdentity",
]
