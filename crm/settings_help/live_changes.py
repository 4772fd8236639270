"""Live changes (contract 1.2, `GET /api/v1/customers/changes`): how many streams, how often, how far back.

One hub per worker process (application/customers/live_changes.py, decision record 0036) reads the event feed
(adapters/sql/customers/events.py) and feeds each open stream's bounded queue (change_streams.py).
"""

from __future__ import annotations

from crm.settings_help.words import Help

LIVE_CHANGES: dict[str, Help] = {
    "CRM_LIVE_CHANGES_MAX_STREAMS": Help(
        (
            "open live change streams (`GET /api/v1/customers/changes`, [api.md](api.md#live-changes)) per worker "
            "process, so `CRM_WORKERS` times this per server; one more → 503. Counted per process, as is the "
            "contract's 5 per caller (the sixth → 429), which therefore holds in each process, not across them. A "
            "waiting stream holds no database connection and about 40 KiB of memory (docs/performance.md), but one "
            "connection for as long as it is open: granian's limit of connections per worker is this plus "
            "`CRM_REQUEST_CONNECTIONS`, so that a worker full of streams still answers everything else"
        ),
        production=(
            "what the pod's memory allows beside everything else: about 40 KiB a stream (1000 streams: 42 MiB "
            "measured); each is an open file too"
        ),
    ),
    "CRM_LIVE_CHANGES_HEARTBEAT_SECONDS": Help(
        (
            "how long a stream stays silent before it gets a comment line (`: keep-alive`), so that proxies, load "
            "balancers and browsers keep an idle stream open. At most 15: the contract promises a line at least "
            "every 15 s"
        ),
        production="below the shortest idle timeout of the proxies in front (15 s fits the usual 30–60 s)",
    ),
    "CRM_LIVE_CHANGES_POLL_MS": Help(
        "while a worker process has streams open, it reads the new changes as soon as its `LISTEN` connection "
        "(channel `crm_customer_changes`) hears of a commit, and at the latest this long after its last read: "
        "the delay of a change when a notification is lost or the listener is down (it tries again at each poll). "
        "Each read is one short statement on a pooled connection that holds off committing customer writes "
        "while it runs (the lock that keeps positions in commit order, migration 0008): lower reads more often. "
        "At most 900, so that a change reaches every stream within the contract's second"
    ),
    "CRM_LIVE_CHANGES_LINGER_SECONDS": Help(
        "how long a worker process keeps following changes after its last stream closed, so that a client that "
        "reconnects at once (a page reload, a network hiccup) finds its hub and `LISTEN` connection still there. "
        "Only while some process follows does its `LISTEN` connection exist, and only while one exists does a "
        "customer write send `NOTIFY` (migration 0009): PostgreSQL makes notifying commits wait for one another, "
        "so with nobody following, writes commit about twice as fast. `0`: stop with the last stream"
    ),
    "CRM_LIVE_CHANGES_REPLAY_HOURS": Help(
        (
            "how long a stream position stays resumable (`Last-Event-ID` or `?after=`) at least; an older one gets "
            "`event: reset` (reload, then follow on). Every customer change is kept for it as an event with its "
            "body (table `customer_events`), whether anyone follows or not; the hourly `crm photos sweep` forgets the "
            "older ones, and so does every worker process with open streams, every 10 minutes"
        ),
        production="as long as a client may be away and still catch up instead of reloading; longer keeps more rows",
    ),
    "CRM_LIVE_CHANGES_QUEUE": Help(
        (
            "events that may wait for one stream's client: a client that falls that far behind (it does not read, "
            "or reads too slowly) is ended with `: slow reader` and resumes with `Last-Event-ID`, losing nothing, "
            "instead of being buffered for without bound (each event's text is about half a KiB, more with signed "
            "photo URLs). The hub hands each stream up to 500 new events at once (an import makes one per row): "
            "set below that, a commit of more changes than this ends every stream, and each then replays it from "
            "the database"
        ),
        production="at least 500",
    ),
}
