"""Single sign-on providers come from the TOML file's `[[oidc_providers]]` tables, or one from
the PAPERWORKS_OIDC_* variables, and bad ones are refused when the service starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paperworks.settings import Settings

TOML = """
[[oidc_providers]]
name = "keycloak"
display_name = "Company login"
issuer = "https://sso.example.com/realms/staff"
client_id = "paperworks"
client_secret = "a-secret"
allowed_domains = ["example.com"]
workspace_id = "01JABCDEFGHJKMNPQRSTVWXYZ0"
default_role = "admin"
allow_signup = false

[[oidc_providers]]
name = "google"
issuer = "https://accounts.google.com"
client_id = "1234.apps.googleusercontent.com"
scopes = ["openid", "email"]
"""


def test_providers_come_from_the_toml_file(tmp_path: Path) -> None:
    Path("paperworks.toml").write_text(TOML)

    keycloak, google = Settings(data_dir=tmp_path).oidc_providers

    assert keycloak.name == "keycloak"
    assert keycloak.label == "Company login"
    assert keycloak.client_secret is not None
    assert keycloak.client_secret.get_secret_value() == "a-secret"
    assert keycloak.scopes == ["openid", "email", "profile"]
    assert keycloak.allowed_domains == ["example.com"]
    assert (keycloak.workspace_id, keycloak.default_role) == ("01JABCDEFGHJKMNPQRSTVWXYZ0", "admin")
    assert keycloak.allow_signup is False
    assert google.client_secret is None  # a public client: PKCE alone
    assert google.label == "google"
    assert google.scopes == ["openid", "email"]
    assert google.allow_signup is True


def test_one_provider_comes_from_the_environment_beside_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("paperworks.toml").write_text(TOML)
    monkeypatch.setenv("PAPERWORKS_OIDC_NAME", "entra")
    monkeypatch.setenv("PAPERWORKS_OIDC_ISSUER", "https://login.microsoftonline.com/t/v2.0")
    monkeypatch.setenv("PAPERWORKS_OIDC_CLIENT_ID", "app-id")
    monkeypatch.setenv("PAPERWORKS_OIDC_CLIENT_SECRET", "")
    monkeypatch.setenv("PAPERWORKS_OIDC_SCOPES", "openid email")
    monkeypatch.setenv("PAPERWORKS_OIDC_ALLOWED_DOMAINS", "Example.com, @example.org")

    *_, entra = Settings(data_dir=tmp_path).oidc_providers

    assert entra.name == "entra"
    assert entra.client_secret is None
    assert entra.scopes == ["openid", "email"]
    assert entra.allowed_domains == ["example.com", "example.org"]
    assert entra.default_role == "member"


def test_no_provider_without_an_issuer(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).oidc_providers == []


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"issuer": "sso.example.com"}, "issuer"),
        ({"scopes": "email profile"}, "openid"),
        ({"default_role": "king"}, "default_role"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_provider_is_refused_with_what_is_wrong(
    tmp_path: Path, provider: dict[str, object], problem: str
) -> None:
    good = {"name": "corp", "issuer": "https://sso.example.com", "client_id": "pw"}
    with pytest.raises(ValidationError, match=problem):
        Settings(data_dir=tmp_path, oidc_providers=[{**good, **provider}])


def test_names_are_unique_and_production_wants_https(tmp_path: Path) -> None:
    corp = {"name": "corp", "issuer": "http://sso.example.com", "client_id": "pw"}
    with pytest.raises(ValidationError, match="share a name"):
        Settings(data_dir=tmp_path, oidc_providers=[corp, corp])
    with pytest.raises(ValidationError, match="https"):
        Settings(
            data_dir=tmp_path,
            environment="production",
            secret_key="Zq8-uV3kR1xW9mB7tL2pY6cN4hJ0sD5fG_aE",
            oidc_providers=[corp],
        )
    with pytest.raises(ValidationError, match="OIDC_CLIENT_ID"):
        Settings(data_dir=tmp_path, oidc_issuer="https://sso.example.com")
