"""Names vulture reports as unused that are used where it cannot see (``make lint`` runs vulture with this file).

Each line names what uses it. Keep this list short: anything else vulture reports is dead and goes.
"""

# ruff: noqa: B018
# mypy: ignore-errors

_ = object()

# Litestar reads these class attributes of controllers and of the OpenAPI objects we adjust.
_.include_in_schema
_.security
_.tags
_.guards
# Litestar calls an OpenAPI render plugin's render() and a plugin's receive_router()
# (adapters/http/openapi/docs_page.py).
_.render
_.receive_router
_.request_body
_.additional_properties
# msgspec fields: part of the wire format, read by clients or accepted from them.
_.photo_thumbnail_url
_.token_type_hint
_.error_description
_.title
# prometheus_client calls a collector's collect().
_.collect
# The in-memory photo storage's failure injection and inspection, for the consistency tests.
_.fail_next
_.object_at
# Every table, for the tests that empty the database between them.
_.ALL_TABLES
# Context-manager and signal-handler signatures that Python fixes.
_.exc_type
_.tb
_.signum
# Tests, fixtures and bench/ migrate their databases with it (both phases).
_.upgrade_to_head
# Migration modules (migrations/versions/, which vulture skips) call these helpers.
_.Irreversible
_.create_index_concurrently
_.drop_index_concurrently
_.add_foreign_key
_.add_check
_.acknowledged
