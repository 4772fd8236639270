"""The previous release on the schema HEAD's expand migrations made: alone, then beside HEAD on one database.

What a rolling update and a rollback do: for the minutes of the rollout (and for as long as a rollback lasts) pods of
the previous release serve on the new schema, next to pods of the new one. The version-1 suite of the old release
alone misses what only shows with both at once (a row one writes that the other cannot read), hence both ways.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.releases import scenario
from tests.releases.scenario.access import sign_in
from tests.releases.scenario.caller import Caller, Credentials, answer, ids
from tests.releases.serving import Server


@contextmanager
def connected(*servers: Server) -> Iterator[list[httpx.Client]]:
    clients = [httpx.Client(base_url=server.base_url, timeout=30) for server in servers]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def test_the_previous_release_alone_passes_the_version_1_scenario(previous_server: Server, admin: Credentials) -> None:
    with connected(previous_server) as [old]:
        scenario.run(old, old, admin)


def test_what_the_previous_release_writes_head_reads(
    previous_server: Server, head_server: Server, admin: Credentials
) -> None:
    with connected(previous_server, head_server) as [old, new]:
        scenario.run(writer=old, reader=new, admin=admin)


def test_what_head_writes_the_previous_release_reads(
    previous_server: Server, head_server: Server, admin: Credentials
) -> None:
    with connected(previous_server, head_server) as [old, new]:
        scenario.run(writer=new, reader=old, admin=admin)


def test_a_customer_an_api_key_wrote_on_head_is_whole_on_the_previous_release(
    previous_server: Server, head_server: Server, admin: Credentials
) -> None:
    """API keys (version 1.1) write customers whose author is no user: the previous release must show them too."""
    tag = secrets.token_hex(4)
    with connected(previous_server, head_server) as [old, new]:
        admin_on_new = sign_in(new, admin)
        made = answer(
            admin_on_new.post(
                "/api/v1/api-keys", json={"name": "Shop Sync", "scopes": ["customers:read", "customers:write"]}
            ),
            201,
        )
        key = Caller(new, made["key"])
        author = {"id": made["id"], "name": "Shop Sync"}
        url = f"/api/v1/customers/key-{tag}"
        written = answer(
            key.post("/api/v1/customers", json={"id": f"key-{tag}", "name": "Kay", "surname": "Sync"}), 201
        )
        assert written["created_by"] == author, written

        admin_on_old = admin_on_new.on(old)
        read = admin_on_old.get(url)
        assert answer(read, 200) == written
        assert ids(answer(admin_on_old.get("/api/v1/customers", params={"q": tag}), 200)) == [f"key-{tag}"]
        patched = answer(
            admin_on_old.patch(url, json={"notes": "Checked."}, headers={"If-Match": read.headers["etag"]}), 200
        )
        assert (patched["created_by"], patched["version"], patched["notes"]) == (author, 2, "Checked."), patched
        entries = answer(admin_on_old.get(f"{url}/history"), 200)["items"]
        assert [entry["kind"] for entry in entries] == ["updated", "created"], entries
        assert entries[1]["actor"] == author, entries

        assert answer(key.get(url), 200) == patched
        assert admin_on_old.delete(url).status_code == 204
        assert key.get(url).status_code == 404
