"""Integrations: where webhooks may be sent, and who sends them."""

from __future__ import annotations

from crm.settings_help.words import Help

WEBHOOKS: dict[str, Help] = {
    "CRM_WEBHOOK_ALLOW_PRIVATE": Help(
        (
            "webhook URLs may resolve to loopback, private, link-local or other non-public addresses (a receiver on "
            "this machine in development and tests)"
        ),
        production="must stay `false` (refused)",
    ),
    "CRM_WEBHOOKS_IN_SERVE": Help(
        (
            "run the webhook delivery worker inside each served process, beside the API; production runs `crm "
            "webhooks work` processes instead (docs/operations.md)"
        ),
        default=(
            "unset: `true` when `crm serve` starts its embedded database, else `false`; `crm serve --webhooks` (what "
            "`make run` runs) sets `true`, `--no-webhooks` `false`"
        ),
    ),
    "CRM_WEBHOOK_WORKER_LOOPS": Help(
        "parallel claim-send-settle loops per worker process; each holds one database connection while it sends "
        "(at most 10 s), and sends up to 32 deliveries at once"
    ),
}
