"""docs/configuration.md's table of settings is the one crm/settings_doc.py generates from ``Settings``."""

from __future__ import annotations

import msgspec

from crm import settings_doc
from crm.settings import Settings
from crm.settings_help import HELP, PARTS


def test_the_committed_table_is_the_generated_one() -> None:
    current = settings_doc.DOCUMENT.read_text()
    stale = "docs/configuration.md is stale: run `python -m crm.settings_doc`"
    assert settings_doc.rewritten(current) == current, stale
    assert settings_doc.main(["--check"]) == 0


def test_every_setting_has_a_row_with_its_own_default_and_range() -> None:
    rows = settings_doc._rows_in(settings_doc.DOCUMENT.read_text())
    fields = msgspec.structs.fields(Settings)
    assert {field.encode_name for field in fields} <= set(rows)
    assert rows["PORT"].default == "`8000`" and rows["PORT"].allowed == "1\N{EN DASH}65535"
    assert rows["CRM_LOG_FORMAT"].default == "`console`; `json` in production"
    assert rows["CRM_WEBHOOK_ALLOW_PRIVATE"].allowed == "`true`, `false`"


def test_every_setting_has_words_of_its_own_and_no_words_name_a_setting_that_is_gone() -> None:
    names = [field.encode_name for structure in settings_doc.STRUCTURES for field in msgspec.structs.fields(structure)]
    missing = sorted(set(names) - set(HELP))
    assert not missing, f"no words in crm/settings_help/ for {missing}"
    assert sorted(set(HELP) - set(names)) == [], "words for a setting that Settings no longer reads"
    # Each setting in one part's module only: a second entry would silently replace the first.
    assert sum(len(part) for part in PARTS) == len(HELP)
    assert all(words.meaning.strip() not in ("", "\N{EM DASH}") for words in HELP.values())


def test_a_setting_without_words_of_its_own_keeps_those_of_the_document() -> None:
    # What a branch that added a setting and its row by hand gets when the table is generated again.
    document = settings_doc.DOCUMENT.read_text().replace(HELP["CRM_WORKERS"].meaning, "words written by hand")
    words = {name: help for name, help in HELP.items() if name != "CRM_WORKERS"}
    table = settings_doc.table(document, words)
    assert "| `CRM_WORKERS` | `1` | 1\N{EN DASH}64 | words written by hand | \N{EM DASH} |" in table
