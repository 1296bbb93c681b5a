"""One `Settings` object for the whole service.

Sources, strongest first: constructor arguments, `PAPERWORKS_*` environment variables, the
conventional unprefixed names a few settings also answer to (`DATABASE_URL`, `REDIS_URL`,
`CELERY_BROKER_URL`, `SENTRY_DSN`, OpenTelemetry's `OTEL_EXPORTER_OTLP_ENDPOINT`), then the TOML
file named by `PAPERWORKS_CONFIG_FILE` (default `./paperworks.toml`, read only if present). Every
setting has a default that works on a laptop; production refuses to start on a weak secret.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from limits import RateLimitItem, parse
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from paperworks.kit.client_ip import IpNetwork

ENV_PREFIX = "PAPERWORKS_"
DEFAULT_CONFIG_FILE = Path("paperworks.toml")
# A file name, not a secret (the secret is what the file holds).
SECRET_KEY_FILE = "secret_key"  # noqa: S105  # nosec B105
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_BITS = 96
WEAK_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "secret-key", "password", "development"}
)


# s3://bucket[/prefix]: an S3 bucket name, then path segments as storage keys have them.
_S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*/?")


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    console = "console"


class JobsBackend(StrEnum):
    local = "local"  # job slots inside `paperworks serve`
    celery = "celery"  # `paperworks worker` processes fed through a broker


class ExcelRenderer(StrEnum):
    builtin = "builtin"  # openpyxl + ReportLab: reproducible, needs saved formula results
    libreoffice = "libreoffice"  # `soffice --headless`: recalculates, draws charts; installed apart


def _also_unprefixed(name: str) -> AliasChoices:
    """Where a setting also answers to its conventional unprefixed name (`DATABASE_URL`, as
    Heroku, Render, docker images and Celery's own docs spell it): `PAPERWORKS_*` first, so it
    wins when both are set; then the bare name, which is also the constructor's keyword and the
    TOML key (environment names are not case-sensitive)."""
    return AliasChoices(f"{ENV_PREFIX}{name.upper()}", name)


def _split_list(value: Any) -> Any:
    """Accept `a,b,c` from the environment as well as a real list from TOML."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# --- single sign-on (OpenID Connect) ----------------------------------------------------------
SSO_ROLES = ("member", "admin", "owner")  # identity.roles.Role's values (settings import no domain)
_PROVIDER_NAME = r"[a-z0-9][a-z0-9_-]{0,39}"


class OidcProvider(BaseModel):
    """One OpenID Connect provider users may sign in with: a `[[oidc_providers]]` table of the
    TOML file, or the `PAPERWORKS_OIDC_*` variables for a single one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=f"^{_PROVIDER_NAME}$", description="In URLs: /auth/sso/NAME/login")
    display_name: str | None = Field(default=None, max_length=100)
    issuer: str = Field(description="Its discovery is ISSUER/.well-known/openid-configuration")
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: SecretStr | None = Field(
        default=None, description="None: a public client, which PKCE alone protects"
    )
    scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "email", "profile"]
    )
    allowed_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Email domains allowed to sign in; empty: any"
    )
    workspace_id: str | None = Field(
        default=None, description="New and linked accounts join this workspace"
    )
    default_role: str = Field(default="member", description="Their role there")
    allow_signup: bool = Field(default=True, description="False: only existing accounts")

    @property
    def label(self) -> str:
        return self.display_name or self.name

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # "openid email" as OAuth writes it, or "openid,email"
            return [item for item in re.split(r"[\s,]+", value) if item]
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("the scopes of an OpenID Connect sign-in include `openid`")
        return value

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _domain_list(cls, value: Any) -> Any:
        items = _split_list(value)
        return (
            [str(item).lower().lstrip("@") for item in items] if isinstance(items, list) else items
        )

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL (https:// in production)")
        return value

    @field_validator("client_secret", "display_name", "workspace_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("default_role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in SSO_ROLES:
            raise ValueError(f"one of {', '.join(SSO_ROLES)}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    environment: Environment = Environment.development
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the embedded database, generated secret and files live.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)

    database_url: str = Field(
        default="",
        validation_alias=_also_unprefixed("database_url"),
        description="Default: SQLite file in the data dir. Also read from DATABASE_URL",
    )
    # A PostgreSQL engine's pool (per process): connections kept open, and how many more it may
    # open for a burst. SQLite keeps its own pool. The defaults are SQLAlchemy's.
    db_pool_size: int = Field(default=5, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    secret_key: SecretStr = Field(default=SecretStr(""), description="Signs tokens and URLs.")
    redis_url: str | None = Field(
        default=None, validation_alias=_also_unprefixed("redis_url"), description="Also REDIS_URL"
    )

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[IpNetwork], NoDecode] = Field(default_factory=list)
    rate_limit_anonymous: str = "100/15minutes"
    rate_limit_authenticated: str = "1000/15minutes"
    # Above MAX_UPLOAD_BYTES, so a file at the upload limit still fits with its multipart framing.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.json
    sentry_dsn: str | None = Field(
        default=None, validation_alias=_also_unprefixed("sentry_dsn"), description="Also SENTRY_DSN"
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
        description="OpenTelemetry's own variable: traces go to ENDPOINT/v1/traces; unset: off",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, /metrics needs `Authorization: Bearer <token>`"
    )
    expose_docs: bool | None = Field(default=None, description="Default: on in development only.")

    # Identity
    access_token_seconds: int = Field(default=15 * 60, ge=60)
    refresh_token_seconds: int = Field(default=24 * 60 * 60, ge=300)
    magic_link_seconds: int = Field(default=15 * 60, ge=60)
    invitation_seconds: int = Field(
        default=7 * 24 * 60 * 60, ge=60, description="How long a workspace invitation is valid"
    )
    password_hash_rounds: int = Field(default=12, ge=4, le=16, description="bcrypt cost")
    public_url: str = Field(default="", description="Default: http://HOST:PORT")
    allowed_redirects: Annotated[list[str], NoDecode] = Field(default_factory=list)
    smtp_url: SecretStr | None = Field(default=None, description="smtp[s]://user:pass@host:port")
    mail_from: str = "Paperworks <no-reply@localhost>"

    # Single sign-on (OpenID Connect, authorization code flow with PKCE): providers as TOML
    # `[[oidc_providers]]` tables (or PAPERWORKS_OIDC_PROVIDERS as JSON), and one more from the
    # PAPERWORKS_OIDC_* variables when PAPERWORKS_OIDC_ISSUER is set.
    oidc_providers: list[OidcProvider] = Field(default_factory=list)
    oidc_name: str = Field(default="oidc", description="The PAPERWORKS_OIDC_* provider's name")
    oidc_display_name: str | None = None
    oidc_issuer: str | None = Field(default=None, description="Set: the PAPERWORKS_OIDC_* provider")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str | None = Field(default=None, description='Default: "openid email profile"')
    oidc_allowed_domains: Annotated[list[str], NoDecode] | None = None
    oidc_workspace_id: str | None = None
    oidc_default_role: str = "member"
    oidc_allow_signup: bool = True
    oidc_discovery_seconds: int = Field(
        default=60 * 60, ge=0, le=7 * 24 * 60 * 60, description="How long discovery is cached"
    )

    @model_validator(mode="after")
    def _sso_providers(self) -> Settings:
        providers = list(self.oidc_providers)
        if self.oidc_issuer is not None:
            if not self.oidc_client_id:
                raise ValueError(
                    f"{ENV_PREFIX}OIDC_CLIENT_ID is required with {ENV_PREFIX}OIDC_ISSUER"
                )
            single: dict[str, Any] = {
                "name": self.oidc_name,
                "display_name": self.oidc_display_name,
                "issuer": self.oidc_issuer,
                "client_id": self.oidc_client_id,
                "client_secret": self.oidc_client_secret,
                "workspace_id": self.oidc_workspace_id,
                "default_role": self.oidc_default_role,
                "allow_signup": self.oidc_allow_signup,
            }
            if self.oidc_scopes is not None:
                single["scopes"] = self.oidc_scopes
            if self.oidc_allowed_domains is not None:
                single["allowed_domains"] = self.oidc_allowed_domains
            providers.append(OidcProvider(**single))
        names = [provider.name for provider in providers]
        if len(set(names)) != len(names):
            raise ValueError(f"two single sign-on providers share a name: {names}")
        if self.environment is Environment.production:
            for provider in providers:
                if not provider.issuer.startswith("https://"):
                    raise ValueError(
                        f"the issuer of {provider.name} must be https:// in production"
                    )
        object.__setattr__(self, "oidc_providers", providers)
        return self

    # Files
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1, description="Per uploaded file")
    excel_renderer: ExcelRenderer = Field(
        default=ExcelRenderer.builtin, description="How booklets draw a workbook's tab"
    )
    signed_url_ttl_seconds: int = Field(default=60 * 60, ge=1, le=7 * 24 * 60 * 60)
    storage_url: str = Field(
        default="", description="Default: DATA_DIR/files; s3://bucket[/prefix] for S3"
    )
    s3_endpoint_url: str | None = Field(default=None, description="MinIO etc.; default: AWS")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = Field(default=None, description="Default: boto3's own chain")
    s3_secret_access_key: SecretStr | None = None

    # Jobs
    job_slots: int = Field(default=4, ge=0, le=64, description="Jobs run at once by serve; 0: none")
    job_lease_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    job_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Modules whose module-level @job_handler()s also run"
    )
    jobs_backend: JobsBackend = JobsBackend.local
    celery_broker_url: str | None = Field(
        default=None,
        validation_alias=_also_unprefixed("celery_broker_url"),
        description="redis://host:6379/1 or amqp://user:pass@host:5672//; also CELERY_BROKER_URL",
    )
    celery_queue: str = Field(default="paperworks.jobs", min_length=1, max_length=200)

    # LLM (decks; later the assistant and extraction). No key: the offline engines.
    llm_base_url: str = Field(
        default="https://openrouter.ai/api/v1", description="Any OpenAI-compatible API"
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "PAPERWORKS_LLM_API_KEY", "llm_api_key", "OPENROUTER_API_KEY"
        ),
        description="Also read from OPENROUTER_API_KEY; unset: the offline engine",
    )
    llm_model: str = Field(default="openai/gpt-4o-mini", min_length=1)
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    llm_max_retries: int = Field(default=3, ge=0, le=10, description="On 429, 5xx and timeouts")
    llm_cache_seconds: int = Field(
        default=60 * 60, ge=0, description="Outline and header-mapping cache; 0: off"
    )

    # Images for decks: Runware first, then an OpenAI-compatible images API, else a placeholder.
    runware_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "PAPERWORKS_RUNWARE_API_KEY", "runware_api_key", "RUNWARE_API_KEY"
        ),
        description="Also read from RUNWARE_API_KEY",
    )
    runware_url: str = "https://api.runware.ai/v1"
    runware_model: str = "runware:100@1"
    image_api_base_url: str | None = Field(
        default=None, description="OpenAI-compatible images API, the fallback after Runware"
    )
    image_api_key: SecretStr | None = None
    image_model: str = "gpt-image-1"
    image_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    image_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Per image")

    # Extraction: what reading one PDF may cost (its job fails past the first, a page gets a
    # `page_timeout` issue past the second and the other pages are still read).
    extraction_max_pages: int = Field(
        default=500, ge=1, le=100_000, description="PDF pages one extraction job reads at most"
    )
    extraction_page_seconds: float = Field(
        default=10.0, gt=0, le=600, description="Time to read one PDF page before it is skipped"
    )

    # The assistant: how much history reaches the model, and how long one turn may run.
    assistant_history_turns: int = Field(
        default=10, ge=1, le=100, description="Turns sent whole; older ones only as a summary"
    )
    assistant_max_steps: int = Field(
        default=8, ge=1, le=50, description="Model calls per turn (each may call tools)"
    )
    assistant_tracing: bool = Field(
        default=False, description="The Agents SDK's tracing (exports to OpenAI); off by default"
    )

    # Webhooks (paperworks.webhooks): where and how deliveries may be sent.
    webhooks_allow_private: bool = Field(
        default=False,
        description="Deliver to private, loopback and link-local addresses (tests, on-premises)",
    )
    webhooks_allow_http: bool | None = Field(
        default=None, description="Accept plain http:// endpoints; default: in development only"
    )
    webhooks_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="One delivery attempt, connection to last byte"
    )
    webhooks_disable_after_days: float = Field(
        default=5.0, gt=0, le=90, description="An endpoint failing this long is disabled"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
        path = Path(config_file) if config_file else DEFAULT_CONFIG_FILE
        if config_file and not path.is_file():
            raise ValueError(f"{ENV_PREFIX}CONFIG_FILE={config_file} is not a readable file")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=path),
        )

    @field_validator(
        "cors_origins",
        "trusted_proxies",
        "allowed_redirects",
        "job_modules",
        "oidc_allowed_domains",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return [ipaddress.ip_network(item, strict=False) for item in _split_list(value)]

    @field_validator("rate_limit_anonymous", "rate_limit_authenticated")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '100/15minutes': {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        if value and not _S3_URL.fullmatch(value):
            raise ValueError(
                "empty (files under DATA_DIR/files) or s3://bucket[/prefix], with a bucket name "
                "of 3-63 lower-case letters, digits, '.' and '-', and a prefix of path segments "
                f"of letters, digits, '_', '-' and '.': {value!r}"
            )
        return value.rstrip("/")

    @field_validator(
        "s3_endpoint_url",
        "s3_access_key_id",
        "s3_secret_access_key",
        "llm_api_key",
        "runware_api_key",
        "image_api_base_url",
        "image_api_key",
        "metrics_token",
        "otel_exporter_otlp_endpoint",
        "oidc_display_name",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
        "oidc_workspace_id",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3_endpoint_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise ValueError("one of CRITICAL, ERROR, WARNING, INFO, DEBUG")
        return level

    @model_validator(mode="after")
    def _celery_needs_a_broker(self) -> Settings:
        if self.jobs_backend is JobsBackend.celery and not self.celery_broker_url:
            raise ValueError(
                f"{ENV_PREFIX}CELERY_BROKER_URL is required when {ENV_PREFIX}JOBS_BACKEND=celery "
                "(redis://host:6379/1 or amqp://user:pass@host:5672//; CELERY_BROKER_URL works too)"
            )
        return self

    @model_validator(mode="after")
    def _derived_defaults(self) -> Settings:
        # Frozen model: fill derived defaults through object.__setattr__ once, at validation.
        if not self.database_url:
            db_file = (self.data_dir / "paperworks.db").resolve()
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{db_file}")
        if not self.public_url:
            # Links in mail and download URLs must reach this server on the port it serves.
            host = "127.0.0.1" if _is_unspecified(self.host) else self.host
            object.__setattr__(self, "public_url", f"http://{host}:{self.port}")
        if self.expose_docs is None:
            object.__setattr__(self, "expose_docs", self.environment is Environment.development)
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                f"{ENV_PREFIX}S3_ACCESS_KEY_ID and {ENV_PREFIX}S3_SECRET_ACCESS_KEY go together: "
                "set both, or neither to let boto3 find credentials"
            )
        secret = self.secret_key.get_secret_value()
        if self.environment is Environment.production:
            _refuse_weak_secret(secret)
        elif not secret:
            object.__setattr__(self, "secret_key", SecretStr(_local_secret(self.data_dir)))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def engine_options(self) -> dict[str, Any]:
        """What `kit.db.create_engine` takes besides the URL (it applies the pool to server
        databases only)."""
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}

    @cached_property
    def anonymous_limit(self) -> RateLimitItem:
        return parse(self.rate_limit_anonymous)

    @cached_property
    def authenticated_limit(self) -> RateLimitItem:
        return parse(self.rate_limit_authenticated)


def _is_unspecified(host: str) -> bool:
    """0.0.0.0 or :: (in any spelling): what a server binds to listen on every interface, and
    no address a link can point at."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def _refuse_weak_secret(secret: str) -> None:
    if not secret:
        raise ValueError(f"{ENV_PREFIX}SECRET_KEY is required in production")
    if len(secret) < MIN_SECRET_KEY_LENGTH or secret.lower() in WEAK_SECRETS:
        raise ValueError(
            f"{ENV_PREFIX}SECRET_KEY is too weak for production: use at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')"
        )
    if (bits := estimated_bits(secret)) < MIN_SECRET_KEY_BITS:
        raise ValueError(
            f"{ENV_PREFIX}SECRET_KEY is too predictable to be a real secret (about {bits:.0f} "
            f"bits; at least {MIN_SECRET_KEY_BITS} needed): use a random one"
        )


_CHARACTER_CLASSES = (
    (str.isdigit, 10),
    (str.islower, 26),
    (str.isupper, 26),
)
_OTHER_CHARACTERS = 33  # ASCII punctuation and space; anything else counts as that much too


def estimated_bits(secret: str) -> float:
    """A pessimistic guess of a secret's entropy: the characters a guesser could not predict,
    times the bits of the alphabet it draws from. A character is predictable when it goes on a
    run (`aaaa`, `1234`, `dcba`), or ends four characters seen before (`0123456789` x 4,
    `Password1Password1`). A random key of 32 characters or more
    scores far above the bar; a pattern scores near nothing."""
    alphabet = sum(size for in_class, size in _CHARACTER_CLASSES if any(map(in_class, secret)))
    if any(not any(in_class(c) for in_class, _ in _CHARACTER_CLASSES) for c in secret):
        alphabet += _OTHER_CHARACTERS
    seen: set[str] = set()
    surprising = 0
    step = None
    for i, char in enumerate(secret):
        gram = secret[max(0, i - 3) : i + 1]
        last_step, step = step, (ord(char) - ord(secret[i - 1]) if i else None)
        continues_run = step is not None and step == last_step and abs(step) <= 1
        if not continues_run and not (len(gram) == 4 and gram in seen):
            surprising += 1
        seen.add(gram)
    return surprising * math.log2(max(alphabet, 2))


def _local_secret(data_dir: Path) -> str:
    """A secret generated once per data dir, so sessions survive restarts on a laptop."""
    path = data_dir / SECRET_KEY_FILE
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: when two workers start at once, one writes and the other reads what it wrote.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
