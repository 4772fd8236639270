"""The words of docs/configuration.md's table of settings, by variable (crm/settings_doc.py writes the table).

The name, order, plain default and range of each setting come from ``Settings`` itself: write here what a reader
needs beyond them, in the module of the part of the CRM that reads the setting. ``default`` and ``allowed`` replace
the generated cell when set. tests/unit/test_settings_doc.py fails when a setting has no words here.
"""

from __future__ import annotations

from crm.settings_help.access import ACCESS
from crm.settings_help.customers import CUSTOMERS
from crm.settings_help.fair_use import FAIR_USE
from crm.settings_help.live_changes import LIVE_CHANGES
from crm.settings_help.migrations import MIGRATIONS
from crm.settings_help.service import SERVICE
from crm.settings_help.webhooks import WEBHOOKS
from crm.settings_help.words import Help

PARTS: tuple[dict[str, Help], ...] = (SERVICE, ACCESS, FAIR_USE, CUSTOMERS, LIVE_CHANGES, WEBHOOKS, MIGRATIONS)
HELP: dict[str, Help] = {name: words for part in PARTS for name, words in part.items()}

__all__ = ["HELP", "PARTS", "Help"]
