import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from paperworks.services import Services
from paperworks.settings import Environment, Settings
from tests.conftest import make_settings

SQLALCHEMY_DEFAULT_POOL_SIZE = 5

STRONG = "k3Jx9-QpL2vR8sTzW4yN6bM1cF5hG7dA0eU"


def test_defaults_work_on_a_laptop(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.environment is Environment.development
    assert settings.database_url == f"sqlite+aiosqlite:///{(tmp_path / 'paperworks.db').resolve()}"
    assert settings.is_sqlite
    assert settings.expose_docs is True
    assert settings.redis_url is None
    assert settings.trusted_proxies == []
    assert settings.rate_limit_anonymous == "100/15minutes"
    assert settings.anonymous_limit.amount == 100
    assert settings.authenticated_limit.amount == 1000
    assert settings.port == 8000


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).secret_key.get_secret_value()
    second = Settings(data_dir=tmp_path).secret_key.get_secret_value()
    assert len(first) >= 32
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_docs_are_hidden_outside_development(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, environment="test").expose_docs is False
    assert Settings(data_dir=tmp_path, environment="test", expose_docs=True).expose_docs is True


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("", "required"),
        ("changeme", "too weak"),
        ("short-but-random-Xy7", "too weak"),
        ("a" * 40, "too predictable"),
        ("0123456789" * 4, "too predictable"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "too predictable"),
        ("Password1Password1Password1Password1", "too predictable"),
    ],
)
def test_production_refuses_missing_or_weak_secret(
    tmp_path: Path, secret: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(data_dir=tmp_path, environment="production", secret_key=secret)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(24), lambda: secrets.token_hex(16)])
def test_production_accepts_any_random_secret_of_the_usual_kinds(
    tmp_path: Path, make: Callable[[], str]
) -> None:
    for _ in range(200):
        secret = make()
        settings = Settings(data_dir=tmp_path, environment="production", secret_key=secret)
        assert settings.secret_key.get_secret_value() == secret


def test_production_accepts_a_strong_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment="production", secret_key=STRONG)
    assert settings.secret_key.get_secret_value() == STRONG
    assert settings.expose_docs is False
    assert STRONG not in repr(settings)


def test_environment_beats_the_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('log_level = "debug"\nport = 9001\ncors_origins = ["https://a.example"]\n')
    monkeypatch.setenv("PAPERWORKS_CONFIG_FILE", str(config))
    monkeypatch.setenv("PAPERWORKS_PORT", "9002")
    settings = Settings(data_dir=tmp_path)
    assert settings.port == 9002
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ["https://a.example"]


def test_default_toml_file_is_read_when_present(tmp_path: Path) -> None:
    # The autouse fixture runs every test in its own tmp_path, so ./paperworks.toml is ours.
    Path("paperworks.toml").write_text('environment = "test"\n')
    assert Settings(data_dir=tmp_path).environment is Environment.test


def test_a_named_config_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERWORKS_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="not a readable file"):
        Settings(data_dir=tmp_path)


def test_lists_come_comma_separated_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PAPERWORKS_TRUSTED_PROXIES", "10.0.0.1,192.168.0.0/16")
    settings = Settings(data_dir=tmp_path)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.1/32", "192.168.0.0/16"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate_limit_anonymous", "lots"),
        ("log_level", "LOUD"),
        ("trusted_proxies", "not-an-ip"),
        ("port", 0),
        ("log_format", "xml"),
        ("extraction_max_pages", 0),
        ("extraction_page_seconds", 0),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    tmp_path: Path, field: str, value: object
) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(data_dir=tmp_path, **{field: value})


def test_the_pdf_caps_of_extraction_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = Settings(data_dir=tmp_path)
    assert (defaults.extraction_max_pages, defaults.extraction_page_seconds) == (500, 10.0)
    monkeypatch.setenv("PAPERWORKS_EXTRACTION_MAX_PAGES", "40")
    monkeypatch.setenv("PAPERWORKS_EXTRACTION_PAGE_SECONDS", "2.5")
    settings = Settings(data_dir=tmp_path)
    assert (settings.extraction_max_pages, settings.extraction_page_seconds) == (40, 2.5)


def test_the_public_url_follows_the_port_unless_set(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, port=8899).public_url == "http://127.0.0.1:8899"
    assert Settings(data_dir=tmp_path, host="0.0.0.0", port=80).public_url == "http://127.0.0.1:80"  # noqa: S104
    assert Settings(data_dir=tmp_path, host="::", port=80).public_url == "http://127.0.0.1:80"
    assert Settings(data_dir=tmp_path, host="db.local").public_url == "http://db.local:8000"
    chosen = Settings(data_dir=tmp_path, port=8899, public_url="https://docs.example.com/")
    assert chosen.public_url == "https://docs.example.com"


# --- conventional unprefixed names ------------------------------------------------------------

UNPREFIXED = {
    # field: (the conventional name, a value under it, another under the PAPERWORKS_ name)
    "database_url": (
        "DATABASE_URL",
        "postgresql+asyncpg://app@db/paperworks",
        "postgresql+asyncpg://app@db/other",
    ),
    "redis_url": ("REDIS_URL", "redis://cache:6379/0", "redis://cache:6379/1"),
    "celery_broker_url": ("CELERY_BROKER_URL", "amqp://guest@mq:5672//", "redis://cache:6379/2"),
    "sentry_dsn": ("SENTRY_DSN", "https://key@sentry.example/1", "https://key@sentry.example/2"),
}


@pytest.mark.parametrize("field", UNPREFIXED)
def test_conventional_unprefixed_names_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    name, plain, _ = UNPREFIXED[field]
    monkeypatch.setenv(name, plain)
    assert getattr(Settings(data_dir=tmp_path), field) == plain


@pytest.mark.parametrize("field", UNPREFIXED)
def test_the_prefixed_name_wins_over_the_unprefixed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    name, plain, prefixed = UNPREFIXED[field]
    monkeypatch.setenv(name, plain)
    monkeypatch.setenv(f"PAPERWORKS_{name}", prefixed)
    assert getattr(Settings(data_dir=tmp_path), field) == prefixed


@pytest.mark.parametrize(
    ("field", "vendor_name"),
    [("llm_api_key", "OPENROUTER_API_KEY"), ("runware_api_key", "RUNWARE_API_KEY")],
)
def test_a_prefixed_api_key_wins_over_any_other_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, vendor_name: str
) -> None:
    monkeypatch.setenv(vendor_name, "vendor")
    assert getattr(Settings(data_dir=tmp_path), field).get_secret_value() == "vendor"
    monkeypatch.setenv(field.upper(), "bare")
    monkeypatch.setenv(f"PAPERWORKS_{field.upper()}", "ours")
    assert getattr(Settings(data_dir=tmp_path), field).get_secret_value() == "ours"


@pytest.mark.parametrize("field", UNPREFIXED)
def test_unprefixed_names_rank_between_the_arguments_and_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """The TOML key and the constructor's keyword are still the setting's own name."""
    name, plain, prefixed = UNPREFIXED[field]
    Path("paperworks.toml").write_text(f'{field} = "{prefixed}"\n')
    assert getattr(Settings(data_dir=tmp_path), field) == prefixed
    monkeypatch.setenv(name, plain)
    assert getattr(Settings(data_dir=tmp_path), field) == plain
    assert getattr(Settings(data_dir=tmp_path, **{field: prefixed}), field) == prefixed


def test_an_unprefixed_broker_is_enough_for_the_celery_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_JOBS_BACKEND", "celery")
    with pytest.raises(ValidationError, match="CELERY_BROKER_URL"):
        Settings(data_dir=tmp_path)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://cache:6379/1")
    assert Settings(data_dir=tmp_path).celery_broker_url == "redis://cache:6379/1"


# --- the database pool ------------------------------------------------------------------------


def test_the_pool_settings_default_to_sqlalchemys_and_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = Settings(data_dir=tmp_path)
    assert defaults.engine_options == {"pool_size": 5, "max_overflow": 10}
    monkeypatch.setenv("PAPERWORKS_DB_POOL_SIZE", "20")
    monkeypatch.setenv("PAPERWORKS_DB_MAX_OVERFLOW", "0")
    assert Settings(data_dir=tmp_path).engine_options == {"pool_size": 20, "max_overflow": 0}
    with pytest.raises(ValidationError, match="db_pool_size"):
        Settings(data_dir=tmp_path, db_pool_size=0)


async def test_the_pool_settings_reach_the_services_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """On PostgreSQL the pool holds DB_POOL_SIZE connections and opens DB_MAX_OVERFLOW more under
    load; SQLite keeps its own pool whatever they say."""
    monkeypatch.setenv("PAPERWORKS_DB_POOL_SIZE", "2")
    monkeypatch.setenv("PAPERWORKS_DB_MAX_OVERFLOW", "1")
    settings = make_settings(tmp_path, database_url=database_url)
    services = Services.build(settings, products=())
    pool = services.db.engine.pool
    try:
        if settings.is_sqlite:
            assert pool.size() == SQLALCHEMY_DEFAULT_POOL_SIZE
            return
        assert (pool.size(), pool._max_overflow) == (2, 1)
        async with AsyncExitStack() as stack:
            for _ in range(3):
                connection = await stack.enter_async_context(services.db.engine.connect())
                assert await connection.scalar(text("SELECT 1")) == 1
            assert (pool.checkedout(), pool.overflow()) == (3, 1)
    finally:
        await services.aclose()
