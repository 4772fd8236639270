"""All configuration comes from the environment (twelve-factor). docs/configuration.md lists every variable.

``Settings`` declares each variable once: its name, its type, its range and its default. msgspec converts the
environment's strings into it and validates them; what msgspec cannot say (defaults that follow ``CRM_ENV``,
comma-separated lists, rotation keys, production's refusals) is done around that one conversion.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from adapters.http.edge.client_address import parse_networks
from adapters.security.oidc import parse_oidc_providers
from crm.environment_values import decode_path, name_the_variable

Environment = Literal["development", "test", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
MIN_SECRET_LENGTH = 32
# Even outside production: the photo URL signer needs a key of some length.
MIN_DEVELOPMENT_SECRET_LENGTH = 16
WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "your_secret_key_test", "development", "test"})


class SettingsError(ValueError):
    """The environment does not describe a service that may start."""


def _env(name: str, default: Any) -> Any:
    return msgspec.field(name=name, default=default)


def _range(low: int, high: int) -> msgspec.Meta:
    return msgspec.Meta(ge=low, le=high)


_TIMEOUT = msgspec.Meta(ge=0, le=3600)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The service's settings; each field reads the environment variable named beside it."""

    environment: Environment = _env("CRM_ENV", "development")
    database_url: str | None = _env("DATABASE_URL", None)
    # Empty: outside production, a random secret kept in the data folder (see from_environment).
    secret_key: str = _env("SECRET_KEY", "")
    # Production listens on every interface instead (see _PRODUCTION_DEFAULTS).
    host: str = _env("CRM_HOST", "127.0.0.1")
    port: Annotated[int, _range(1, 65535)] = _env("PORT", 8000)
    workers: Annotated[int, _range(1, 64)] = _env("CRM_WORKERS", 1)
    # Connections each worker serves at once besides its live change streams (granian's --backpressure is the sum).
    request_connections: Annotated[int, _range(1, 100_000)] = _env("CRM_REQUEST_CONNECTIONS", 1024)
    data_dir: Path = _env("CRM_DATA_DIR", Path("var"))
    # Unset: http://127.0.0.1:<PORT>.
    public_url: str = _env("CRM_PUBLIC_URL", "http://127.0.0.1:8000")
    cors_origins: tuple[str, ...] = _env("CRM_CORS_ORIGINS", ())
    access_token_minutes: Annotated[int, _range(1, 60)] = _env("CRM_ACCESS_TOKEN_MINUTES", 15)
    refresh_token_days: Annotated[int, _range(1, 90)] = _env("CRM_REFRESH_TOKEN_DAYS", 14)
    session_days: Annotated[int, _range(1, 365)] = _env("CRM_SESSION_DAYS", 30)
    # How long a deleted customer waits in the trash before the sweep purges it.
    trash_days: Annotated[int, _range(1, 3650)] = _env("CRM_TRASH_DAYS", 30)
    token_issuer: str = _env("CRM_TOKEN_ISSUER", "crm")
    password_time_cost: Annotated[int, _range(1, 10)] = _env("CRM_PASSWORD_TIME_COST", 3)
    password_memory_kib: Annotated[int, _range(8, 1_048_576)] = _env("CRM_PASSWORD_MEMORY_KIB", 65_536)
    password_parallelism: Annotated[int, _range(1, 16)] = _env("CRM_PASSWORD_PARALLELISM", 4)
    db_pool_size: Annotated[int, _range(1, 100)] = _env("CRM_DB_POOL_SIZE", 10)
    # No overflow: a connection opened past the pool is closed when returned, and reopened at once under load.
    db_max_overflow: Annotated[int, _range(0, 100)] = _env("CRM_DB_MAX_OVERFLOW", 0)
    db_pool_timeout_seconds: Annotated[int, _range(1, 60)] = _env("CRM_DB_POOL_TIMEOUT_SECONDS", 5)
    bootstrap_admin_email: str | None = _env("CRM_BOOTSTRAP_ADMIN_EMAIL", None)
    bootstrap_admin_password: str | None = _env("CRM_BOOTSTRAP_ADMIN_PASSWORD", None)
    bootstrap_admin_name: str = _env("CRM_BOOTSTRAP_ADMIN_NAME", "Administrator")
    log_level: LogLevel = _env("CRM_LOG_LEVEL", "INFO")
    # Production logs JSON instead (see _PRODUCTION_DEFAULTS).
    log_format: Literal["json", "console"] = _env("CRM_LOG_FORMAT", "console")
    otlp_endpoint: str | None = _env("CRM_OTLP_ENDPOINT", None)
    shutdown_delay_seconds: Annotated[int, _range(0, 120)] = _env("CRM_SHUTDOWN_DELAY_SECONDS", 2)
    shutdown_drain_seconds: Annotated[int, _range(1, 600)] = _env("CRM_SHUTDOWN_DRAIN_SECONDS", 20)
    # Unset: <data_dir>/photos.
    photo_dir: Path | None = _env("CRM_PHOTO_DIR", None)
    photo_max_bytes: Annotated[int, _range(1024, 100 * 1024 * 1024)] = _env("CRM_PHOTO_MAX_BYTES", 5 * 1024 * 1024)
    photo_max_pixels: Annotated[int, _range(10_000, 200_000_000)] = _env("CRM_PHOTO_MAX_PIXELS", 40_000_000)
    photo_url_lifetime_seconds: Annotated[int, _range(10, 7 * 24 * 3600)] = _env("CRM_PHOTO_URL_LIFETIME_SECONDS", 900)
    s3_bucket: str | None = _env("CRM_S3_BUCKET", None)
    s3_prefix: str = _env("CRM_S3_PREFIX", "")
    s3_endpoint_url: str | None = _env("CRM_S3_ENDPOINT_URL", None)
    # Unset: AWS_REGION, else botocore's own resolution.
    s3_region: str | None = _env("CRM_S3_REGION", None)
    trusted_proxies: tuple[str, ...] = _env("CRM_TRUSTED_PROXIES", ())
    oidc_providers: str = _env("CRM_OIDC_PROVIDERS", "")
    # Access-token signing keys as (key id, secret), newest first; empty: one key derived from secret_key.
    jwt_keys: tuple[tuple[str, str], ...] = _env("CRM_JWT_KEYS", ())
    # Webhook deliveries to loopback, private and link-local addresses and over plain http (development and tests).
    webhook_allow_private: bool = _env("CRM_WEBHOOK_ALLOW_PRIVATE", False)
    # Unset: deliver inside `crm serve` only when it runs alone on the embedded database (`make run`).
    webhooks_in_serve: bool | None = _env("CRM_WEBHOOKS_IN_SERVE", None)
    webhook_worker_loops: Annotated[int, _range(1, 64)] = _env("CRM_WEBHOOK_WORKER_LOOPS", 4)
    # Live changes (docs/configuration.md): the poll behind LISTEN stays under the contract's 1 s.
    live_changes_max_streams: Annotated[int, _range(1, 100_000)] = _env("CRM_LIVE_CHANGES_MAX_STREAMS", 1000)
    live_changes_heartbeat_seconds: Annotated[int, _range(1, 15)] = _env("CRM_LIVE_CHANGES_HEARTBEAT_SECONDS", 15)
    live_changes_poll_ms: Annotated[int, _range(50, 900)] = _env("CRM_LIVE_CHANGES_POLL_MS", 500)
    live_changes_replay_hours: Annotated[int, _range(1, 720)] = _env("CRM_LIVE_CHANGES_REPLAY_HOURS", 24)
    live_changes_queue: Annotated[int, _range(16, 100_000)] = _env("CRM_LIVE_CHANGES_QUEUE", 1000)
    live_changes_linger_seconds: Annotated[int, _range(0, 300)] = _env("CRM_LIVE_CHANGES_LINGER_SECONDS", 10)
    # Fair use (docs/api.md): requests per caller and window (0: no limit), and API keys' daily quota on top.
    rate_limit_requests: Annotated[int, _range(0, 1_000_000)] = _env("CRM_RATE_LIMIT_REQUESTS", 100)
    rate_limit_window_seconds: Annotated[int, _range(1, 86_400)] = _env("CRM_RATE_LIMIT_WINDOW_SECONDS", 10)
    api_key_daily_quota: Annotated[int, _range(1, 1_000_000_000)] = _env("CRM_API_KEY_DAILY_QUOTA", 250_000)
    # How long one SQL statement of a request may run before it is a 503 (0: no limit; fractions allowed).
    db_statement_timeout_seconds: Annotated[float, _TIMEOUT] = _env("CRM_DB_STATEMENT_TIMEOUT_SECONDS", 5.0)

    # The access tokens' audience is not configurable: only this service accepts its tokens.
    token_audience: ClassVar[str] = "crm-api"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_s3(self) -> bool:
        return self.s3_bucket is not None

    @property
    def local_photo_dir(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(days=self.session_days)

    @property
    def trash_period(self) -> timedelta:
        return timedelta(days=self.trash_days)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return msgspec.structs.replace(self, **changes)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw = _variables(env)
        if raw.get("CRM_ENV") == "production":
            for name, value in _PRODUCTION_DEFAULTS.items():
                raw.setdefault(name, value)
        if "PORT" in raw:
            raw.setdefault("CRM_PUBLIC_URL", f"http://127.0.0.1:{raw['PORT']}")
        if "AWS_REGION" in env:
            raw.setdefault("CRM_S3_REGION", env["AWS_REGION"].strip() or None)
        try:
            settings = msgspec.convert(raw, cls, strict=False, dec_hook=decode_path)
        except msgspec.ValidationError as error:
            raise SettingsError(name_the_variable(str(error), raw)) from None
        changes: dict[str, Any] = {"public_url": settings.public_url.rstrip("/")}
        if not settings.secret_key:
            changes["secret_key"] = _development_secret(settings.environment, settings.data_dir)
        settings = settings.replace(**changes)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse to start with settings that cannot work, and in production with what is only fit for a
        developer's machine."""
        try:
            parse_oidc_providers(self.oidc_providers)
        except ValueError as error:
            raise SettingsError(str(error)) from None
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as error:
            raise SettingsError(f"CRM_TRUSTED_PROXIES must list IP addresses or networks: {error}") from None
        if len(self.secret_key) < MIN_DEVELOPMENT_SECRET_LENGTH:
            raise SettingsError(f"SECRET_KEY must be at least {MIN_DEVELOPMENT_SECRET_LENGTH} characters.")
        if not self.is_production:
            return
        problems = []
        if len(self.secret_key) < MIN_SECRET_LENGTH or self.secret_key.lower() in WEAK_SECRETS:
            problems.append(f"SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random characters")
        if not self.database_url:
            problems.append("DATABASE_URL must be set (the embedded database is for development only)")
        if not self.uses_s3:
            problems.append("CRM_S3_BUCKET must be set (local photo storage is for development only)")
        if self.webhook_allow_private:
            problems.append("CRM_WEBHOOK_ALLOW_PRIVATE must not be set (webhooks to internal addresses are refused)")
        if problems:
            raise SettingsError("Refusing to start in production: " + "; ".join(problems) + ".")


# Defaults that differ in production (``CRM_ENV=production``).
_PRODUCTION_DEFAULTS = {"CRM_HOST": "0.0.0.0", "CRM_LOG_FORMAT": "json"}  # noqa: S104
_LISTS = frozenset({"CRM_CORS_ORIGINS", "CRM_TRUSTED_PROXIES"})
_NAMES = frozenset(field.encode_name for field in msgspec.structs.fields(Settings))


def _variables(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings' variables that are set; an empty value counts as unset. Comma-separated lists split."""
    raw: dict[str, Any] = {}
    for name in _NAMES:
        value = env.get(name, "").strip()
        if not value:
            continue
        if name in _LISTS:
            raw[name] = [item.strip() for item in value.split(",") if item.strip()]
        elif name == "CRM_JWT_KEYS":
            raw[name] = _key_list(name, value)
        else:
            raw[name] = value
    return raw


def _key_list(name: str, value: str) -> list[tuple[str, str]]:
    """``id=secret,id=secret``: named secrets, newest first."""
    keys = []
    for item in (item.strip() for item in value.split(",")):
        key_id, _, secret = item.partition("=")
        if not key_id or len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(f"{name} must be id=secret pairs with secrets of {MIN_SECRET_LENGTH}+ characters.")
        keys.append((key_id.strip(), secret.strip()))
    return keys


def _development_secret(environment: str, data_dir: Path) -> str:
    """Outside production, a random secret kept in the data folder, so tokens survive restarts."""
    if environment == "production":
        return ""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
