"""The version-1 contract as a black box: what a client does, over HTTP only, against any release.

Later releases keep running this unchanged against the release before them: it imports nothing of the service, only
speaks HTTP, and names every customer and user it makes with a fresh tag, so it can run many times on one database.
"""

from __future__ import annotations

import secrets

import httpx

from tests.releases.scenario.access import me, refreshed_on, sign_in, user_leaves, users
from tests.releases.scenario.caller import Credentials
from tests.releases.scenario.customers import customers


def run(writer: httpx.Client, reader: httpx.Client, admin: Credentials) -> None:
    """Writes on ``writer``, reads (and some writes) on ``reader``; both serve one database."""
    tag = secrets.token_hex(4)
    admin_on_writer = sign_in(writer, admin)
    admin_on_reader = admin_on_writer.on(reader)  # a token from one release is good on the other
    assert me(admin_on_reader) == me(admin_on_writer)

    clerk = users(admin_on_writer, admin_on_reader, tag)
    clerk_on_writer = sign_in(writer, clerk.credentials)
    clerk_on_reader = refreshed_on(writer, reader, clerk.credentials)
    assert me(clerk_on_reader)["id"] == me(clerk_on_writer.on(reader))["id"] == clerk.id
    customers(clerk_on_writer, clerk_on_reader, clerk, tag)

    user_leaves(admin_on_writer, admin_on_reader, clerk, clerk_on_reader)
    # What the clerk made keeps pointing at them, by id and their last name.
    grace = writer.get(f"/api/v1/customers/grace-{tag}", headers={"Authorization": f"Bearer {admin_on_writer.token}"})
    assert grace.status_code == 200, grace.text
    assert grace.json()["created_by"] == clerk.reference
