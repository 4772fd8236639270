"""Configuration from the environment, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.settings import Settings, SettingsError

STRONG = "s" * 20 + "0123456789abcdefghij"
PRODUCTION = {
    "CRM_ENV": "production",
    "SECRET_KEY": STRONG,
    "DATABASE_URL": "postgresql://crm@db/crm",
    "CRM_S3_BUCKET": "crm-photos",
}


def test_production_with_everything_set_starts() -> None:
    settings = Settings.from_environment(PRODUCTION)
    assert settings.is_production
    assert settings.uses_s3
    assert settings.host == "0.0.0.0"
    assert settings.log_format == "json"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"CRM_S3_BUCKET": ""}, "CRM_S3_BUCKET"),
    ],
)
def test_production_refuses_what_is_only_fit_for_development(change: dict[str, str], complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.from_environment({**PRODUCTION, **change})


def test_development_needs_nothing(tmp_path: Path) -> None:
    settings = Settings.from_environment({"CRM_DATA_DIR": str(tmp_path)})
    assert settings.database_url is None
    assert not settings.uses_s3
    assert len(settings.secret_key) >= 32
    # The generated secret is kept, so tokens survive a restart.
    assert Settings.from_environment({"CRM_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "environment",
    [
        {"PORT": "eighty"},
        {"PORT": "70000"},
        {"CRM_ENV": "staging"},
        {"CRM_OIDC_PROVIDERS": "not json"},
        {"CRM_JWT_KEYS": "k1=short"},
        {"CRM_TRUSTED_PROXIES": "10.0.0.0/8, not-a-network"},
        {"SECRET_KEY": "too-short"},
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(environment: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=next(iter(environment))):
        Settings.from_environment({"CRM_DATA_DIR": str(tmp_path), **environment})


def test_lists_and_rotation_keys(tmp_path: Path) -> None:
    settings = Settings.from_environment(
        {
            "CRM_DATA_DIR": str(tmp_path),
            "CRM_CORS_ORIGINS": "https://crm.example.com, https://admin.example.com",
            "CRM_JWT_KEYS": f"new={STRONG},old={STRONG[::-1]}",
        }
    )
    assert settings.cors_origins == ("https://crm.example.com", "https://admin.example.com")
    assert [key_id for key_id, _ in settings.jwt_keys] == ["new", "old"]


def test_defaults_that_follow_other_variables(tmp_path: Path) -> None:
    settings = Settings.from_environment(
        {"CRM_DATA_DIR": str(tmp_path), "PORT": "9000", "AWS_REGION": "eu-west-1", "CRM_HOST": " ", "CRM_UNKNOWN": "x"}
    )
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.s3_region == "eu-west-1"
    # An empty value counts as unset; unknown CRM_* variables are ignored.
    assert settings.host == "127.0.0.1"
    explicit = Settings.from_environment(
        {"CRM_DATA_DIR": str(tmp_path), "CRM_PUBLIC_URL": "https://crm.example.com/", "CRM_S3_REGION": "us-east-2"}
    )
    assert explicit.public_url == "https://crm.example.com"
    assert explicit.s3_region == "us-east-2"


def test_a_refusal_names_the_variable_and_the_value(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^CRM_WORKERS: expected `int` <= 64, not '65'\.$"):
        Settings.from_environment({"CRM_DATA_DIR": str(tmp_path), "CRM_WORKERS": "65"})
