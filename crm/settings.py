"""All configuration comes from the environment (twelve-factor). docs/configuration.md lists every variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from adapters.http.client_address import parse_networks
from adapters.security.oidc import parse_oidc_providers

Environment = Literal["development", "test", "production"]
MIN_SECRET_LENGTH = 32
# Even outside production: the photo URL signer needs a key of some length.
MIN_DEVELOPMENT_SECRET_LENGTH = 16
WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "your_secret_key_test", "development", "test"})


class SettingsError(ValueError):
    """The environment does not describe a service that may start."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = "development"
    database_url: str | None = None
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = Path("var")
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: tuple[str, ...] = ()
    access_token_lifetime: timedelta = timedelta(minutes=15)
    refresh_token_lifetime: timedelta = timedelta(days=14)
    session_lifetime: timedelta = timedelta(days=30)
    token_issuer: str = "crm"
    token_audience: str = "crm-api"
    password_time_cost: int = 3
    password_memory_kib: int = 65_536
    password_parallelism: int = 4
    db_pool_size: int = 10
    db_max_overflow: int = 0
    db_pool_timeout_seconds: float = 5.0
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = None
    bootstrap_admin_name: str = "Administrator"
    log_level: str = "INFO"
    otlp_endpoint: str | None = None
    shutdown_delay_seconds: float = 2.0
    shutdown_drain_seconds: int = 20
    log_format: Literal["json", "console"] = "console"
    photo_dir: Path | None = None
    photo_max_bytes: int = 5 * 1024 * 1024
    photo_max_pixels: int = 40_000_000
    photo_url_lifetime_seconds: int = 900
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    oidc_providers: str = ""
    # Access-token signing keys as (key id, secret), newest first; empty: one key derived from secret_key.
    jwt_keys: tuple[tuple[str, str], ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_s3(self) -> bool:
        return self.s3_bucket is not None

    @property
    def local_photo_dir(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        environment = reader.choice("CRM_ENV", ("development", "test", "production"), "development")
        data_dir = Path(reader.text("CRM_DATA_DIR", "var"))
        port = reader.integer("PORT", 8000, minimum=1, maximum=65535)
        settings = cls(
            environment=environment,  # type: ignore[arg-type]  # checked by choice()
            database_url=reader.optional("DATABASE_URL"),
            secret_key=reader.optional("SECRET_KEY") or _development_secret(environment, data_dir),
            host=reader.text("CRM_HOST", "0.0.0.0" if environment == "production" else "127.0.0.1"),  # noqa: S104
            port=port,
            workers=reader.integer("CRM_WORKERS", 1, minimum=1, maximum=64),
            data_dir=data_dir,
            public_url=reader.text("CRM_PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            cors_origins=tuple(
                origin.strip() for origin in reader.text("CRM_CORS_ORIGINS", "").split(",") if origin.strip()
            ),
            access_token_lifetime=timedelta(
                minutes=reader.integer("CRM_ACCESS_TOKEN_MINUTES", 15, minimum=1, maximum=60)
            ),
            refresh_token_lifetime=timedelta(days=reader.integer("CRM_REFRESH_TOKEN_DAYS", 14, minimum=1, maximum=90)),
            session_lifetime=timedelta(days=reader.integer("CRM_SESSION_DAYS", 30, minimum=1, maximum=365)),
            token_issuer=reader.text("CRM_TOKEN_ISSUER", "crm"),
            password_time_cost=reader.integer("CRM_PASSWORD_TIME_COST", 3, minimum=1, maximum=10),
            password_memory_kib=reader.integer("CRM_PASSWORD_MEMORY_KIB", 65_536, minimum=8, maximum=1_048_576),
            password_parallelism=reader.integer("CRM_PASSWORD_PARALLELISM", 4, minimum=1, maximum=16),
            db_pool_size=reader.integer("CRM_DB_POOL_SIZE", 10, minimum=1, maximum=100),
            db_max_overflow=reader.integer("CRM_DB_MAX_OVERFLOW", 0, minimum=0, maximum=100),
            db_pool_timeout_seconds=reader.integer("CRM_DB_POOL_TIMEOUT_SECONDS", 5, minimum=1, maximum=60),
            bootstrap_admin_email=reader.optional("CRM_BOOTSTRAP_ADMIN_EMAIL"),
            bootstrap_admin_password=reader.optional("CRM_BOOTSTRAP_ADMIN_PASSWORD"),
            bootstrap_admin_name=reader.text("CRM_BOOTSTRAP_ADMIN_NAME", "Administrator"),
            log_level=reader.choice("CRM_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
            log_format=reader.choice(  # type: ignore[arg-type]  # checked by choice()
                "CRM_LOG_FORMAT", ("json", "console"), "json" if environment == "production" else "console"
            ),
            photo_dir=Path(photo_dir) if (photo_dir := reader.optional("CRM_PHOTO_DIR")) else None,
            photo_max_bytes=reader.integer(
                "CRM_PHOTO_MAX_BYTES", 5 * 1024 * 1024, minimum=1024, maximum=100 * 1024 * 1024
            ),
            photo_max_pixels=reader.integer("CRM_PHOTO_MAX_PIXELS", 40_000_000, minimum=10_000, maximum=200_000_000),
            photo_url_lifetime_seconds=reader.integer(
                "CRM_PHOTO_URL_LIFETIME_SECONDS", 900, minimum=10, maximum=7 * 24 * 3600
            ),
            s3_bucket=reader.optional("CRM_S3_BUCKET"),
            s3_prefix=reader.text("CRM_S3_PREFIX", ""),
            s3_endpoint_url=reader.optional("CRM_S3_ENDPOINT_URL"),
            s3_region=reader.optional("CRM_S3_REGION") or reader.optional("AWS_REGION"),
            trusted_proxies=reader.items("CRM_TRUSTED_PROXIES"),
            otlp_endpoint=reader.optional("CRM_OTLP_ENDPOINT"),
            shutdown_delay_seconds=reader.integer("CRM_SHUTDOWN_DELAY_SECONDS", 2, minimum=0, maximum=120),
            shutdown_drain_seconds=reader.integer("CRM_SHUTDOWN_DRAIN_SECONDS", 20, minimum=1, maximum=600),
            oidc_providers=reader.text("CRM_OIDC_PROVIDERS", ""),
            jwt_keys=reader.key_list("CRM_JWT_KEYS"),
            extra={key: value for key, value in env.items() if key.startswith("CRM_")},
        )
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
        if problems:
            raise SettingsError("Refusing to start in production: " + "; ".join(problems) + ".")


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


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{name} must be between {minimum} and {maximum}, not {value}.")
        return value

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list."""
        return tuple(item.strip() for item in self.text(name, "").split(",") if item.strip())

    def key_list(self, name: str) -> tuple[tuple[str, str], ...]:
        """``id=secret,id=secret``: named secrets, newest first."""
        keys = []
        for item in self.items(name):
            key_id, _, secret = item.partition("=")
            if not key_id or len(secret) < MIN_SECRET_LENGTH:
                raise SettingsError(f"{name} must be id=secret pairs with secrets of {MIN_SECRET_LENGTH}+ characters.")
            keys.append((key_id.strip(), secret.strip()))
        return tuple(keys)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
        return value
