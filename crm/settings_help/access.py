"""Access: the secret and the token keys, sign-in sessions, password hashing, the first admin, OpenID Connect."""

from __future__ import annotations

from crm.settings_help.words import Help

ACCESS: dict[str, Help] = {
    "SECRET_KEY": Help(
        (
            "signs access tokens unless `CRM_JWT_KEYS` is set (the key id is derived from it, so changing it ends "
            "every access token); the HMAC key of local photo URLs is derived from it; so is, with `CRM_JWT_KEYS` set"
            " or not, the AES-256-GCM key that seals stored `Idempotency-Key` answers (HKDF-SHA256). Changing it "
            "makes the stored answers unreadable: for up to 24 h, a repeat of a request answered before the change "
            "gets 409 instead of the first answer (nothing is made twice). It must be at least 16 characters in every"
            " environment"
        ),
        default=(
            "unset: outside production, a random secret made once and kept in `$CRM_DATA_DIR/secret_key` (mode 600)"
        ),
        allowed="text",
        production=(
            "at least 32 characters, and not `secret`, `changeme`, `change-me`, `your_secret_key_test`, `development`"
            " or `test` (any case)"
        ),
    ),
    "CRM_JWT_KEYS": Help(
        (
            "access-token signing keys for rotation: the first signs, all verify (by the token's `kid`). Unset: one "
            "key from `SECRET_KEY`"
        ),
        allowed=(
            "`id=secret,id=secret,…`, newest first; every secret at least 32 characters (checked in every environment)"
        ),
    ),
    "CRM_TOKEN_ISSUER": Help("the access tokens' `iss` claim", allowed="text"),
    "CRM_ACCESS_TOKEN_MINUTES": Help("access-token lifetime (`expires_in`)"),
    "CRM_REFRESH_TOKEN_DAYS": Help("lifetime of each refresh token, never beyond its session's end"),
    "CRM_SESSION_DAYS": Help("absolute end of a sign-in session, however often it is refreshed"),
    "CRM_PASSWORD_TIME_COST": Help("argon2id iterations"),
    "CRM_PASSWORD_MEMORY_KIB": Help("argon2id memory, KiB"),
    "CRM_PASSWORD_PARALLELISM": Help(
        "argon2id lanes. After a change of any of the three, each user's hash is upgraded at their next "
        "successful password sign-in"
    ),
    "CRM_BOOTSTRAP_ADMIN_EMAIL": Help(
        (
            "with the password below: at start-up, create this admin if no active admin exists. A password that "
            "breaks the policy stops the start-up"
        ),
        allowed="e-mail",
    ),
    "CRM_BOOTSTRAP_ADMIN_PASSWORD": Help(
        "the bootstrap admin's password", allowed="text, 12–1024 characters, not a common password"
    ),
    "CRM_BOOTSTRAP_ADMIN_NAME": Help("the bootstrap admin's name", allowed="text"),
    "CRM_OIDC_PROVIDERS": Help(
        (
            "OpenID Connect providers for the token-exchange grant and `GET /api/v1/auth/providers`. Checked at "
            "start-up in every environment"
        ),
        default="unset (no third-party sign-in)",
        allowed=(
            'JSON list of `{"name", "issuer", "client_id"}`: no other keys; `name` at most 100 characters; names and '
            "issuers unique; `issuer` an `https://` URL (`http://` only for `localhost`, `127.0.0.1`, `::1`) without "
            "user, query or fragment"
        ),
    ),
}
