"""The API keeps to its own description: schemathesis generates requests for every operation in
`/openapi.json`, valid and invalid ones, as a signed-in user, and every answer must be no server
error, with a documented status, media type, headers and body; invalid requests must be refused.

Each operation is its own test, so xdist spreads them over the workers; each worker signs one user
up in a database of its own, and each operation gets a service of its own over it. Generation is
derandomized, so a run is the same run every time: a failure reproduces and nothing flakes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.python import asgi

from paperworks import migrations
from paperworks.app import create_app
from paperworks.kit.db import create_engine
from paperworks.settings import Settings
from tests.accounts import PASSWORD
from tests.conftest import make_settings

# Generated cases per operation in the fuzzing phase; the examples and coverage phases add the
# schema's own examples and its boundary values (each length limit, each enum value, each wrong
# type) on top. PAPERWORKS_TEST_FUZZ_EXAMPLES=200 searches deeper, in a run by hand.
MAX_EXAMPLES = int(os.environ.get("PAPERWORKS_TEST_FUZZ_EXAMPLES", "10"))

# Operations that cannot be fuzzed meaningfully.
NOT_FUZZED = {
    # It signs the fuzzing user out: every later case of the worker would be anonymous.
    ("POST", "/api/v1/auth/logout"),
}

# Every check schemathesis has runs on every case, but:
#
# - positive_data_acceptance: a body the schema admits may still break a rule JSON Schema cannot
#   say (a file that must be a workbook of this workspace, an expiry in the future, a redirect
#   among the configured ones, a quarter only with a year), and its documented 4xx is right.
CHECKS_OFF = {"positive_data_acceptance": {"enabled": False}}
# - allow_header_conformance where a literal segment stands beside an `{id}`: `/customers/import`
#   is also `/customers/{customer_id}` with the id `import`, so its 405's Allow truly names GET,
#   PUT and DELETE (they answer there, with a 404), which the schema lists on the other path.
LITERAL_BESIDE_ID = ["/api/v1/customers/import", "/api/v1/books/{book_id}/pages/order"]
# - negative_data_rejection on uploads: a multipart file part is bytes, whatever the generator
#   meant, so a "file" that was to be the number 0.0 arrives as a file holding `0.0`.
UPLOADS = ["/api/v1/files", "/api/v1/documents", "/api/v1/customers/import"]

WORKSPACE_HEADER = "X-Workspace-ID"
WORKSPACE_ID_MAX = 26


@contextmanager
def _no_paperworks_environment() -> Iterator[None]:
    """As tests/conftest.py's autouse fixture does for each test, for what runs before it (the
    import, the module's fixture): no developer's PAPERWORKS_* variables reach the service."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("PAPERWORKS_") and not name.startswith("PAPERWORKS_TEST_"):
                patch.delenv(name)
        yield


def _fuzz_settings(data_dir: Path) -> Settings:
    # One user sends all of a worker's cases: far more than anyone's budget of requests.
    return make_settings(
        data_dir,
        rate_limit_anonymous="1000000/minute",
        rate_limit_authenticated="1000000/minute",
    )


def _openapi_document() -> dict[str, Any]:
    """The document `/openapi.json` serves, from a service built but never started."""
    with tempfile.TemporaryDirectory() as scratch, _no_paperworks_environment():
        return create_app(_fuzz_settings(Path(scratch) / "data")).openapi()


schema = schemathesis.openapi.from_dict(
    _openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 15,
            "generation": {
                "deterministic": True,
                "max-examples": MAX_EXAMPLES,
                # The user's token goes on every case; a generated X-API-Key would win over it
                # and make most cases a 401.
                "with-security-parameters": False,
            },
            # A job's event stream lasts as long as the job: what it sent by then is checked.
            "request-timeout": 5,
            "checks": CHECKS_OFF,
            "operations": [
                {
                    "include-path": LITERAL_BESIDE_ID,
                    "checks": {"allow_header_conformance": {"enabled": False}},
                },
                {
                    "include-path": UPLOADS,
                    "include-method": "POST",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                },
            ],
        }
    ),
).exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in NOT_FUZZED)


@dataclass
class Fuzzing:
    settings: Settings
    headers: dict[str, str]
    workspace_id: str


@pytest.fixture(scope="module")
def fuzzing(tmp_path_factory: pytest.TempPathFactory) -> Fuzzing:
    """A migrated database with a signed-up user, for all of this worker's operations."""
    with _no_paperworks_environment():
        settings = _fuzz_settings(tmp_path_factory.mktemp("fuzz") / "data")
        asyncio.run(_migrate(settings.database_url))
        with asgi.get_client(create_app(settings)) as client:
            signed_up = client.post(
                "/api/v1/auth/register",
                json={"email": "fuzz@example.com", "password": PASSWORD, "name": "Fuzz"},
            )
            assert signed_up.status_code == 201, signed_up.text
            headers = {"Authorization": f"Bearer {signed_up.json()['accessToken']}"}
            (workspace,) = client.get("/api/v1/auth/me", headers=headers).json()["workspaces"]
    asgi.shutdown_lifespans()
    return Fuzzing(settings=settings, headers=headers, workspace_id=workspace["id"])


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def service(fuzzing: Fuzzing) -> FastAPI:
    """A service for one operation's cases: schemathesis ends the lifespan of an app with the
    test that started it, and a service starts only once (its MCP session manager)."""
    return create_app(fuzzing.settings)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # No shrinking: a failure is reported as found, with the curl command that repeats it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        # The service and the environment serve all of an operation's cases on purpose.
        HealthCheck.function_scoped_fixture,
        # Large and slow inputs (uploads, documents) are among what is tested.
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_keeps_to_the_schema(
    case: schemathesis.Case, fuzzing: Fuzzing, service: FastAPI
) -> None:
    # A generated workspace id is no workspace of the user's: a 404 before the route does
    # anything. A valid one (the header is optional, of at most 26 characters) becomes the
    # user's own, so the cases reach the routes; a longer one stays, for its 422.
    workspace = (case.headers or {}).get(WORKSPACE_HEADER)
    if isinstance(workspace, str) and len(workspace) <= WORKSPACE_ID_MAX:
        case.headers[WORKSPACE_HEADER] = fuzzing.workspace_id
    case.call_and_validate(app=service, headers=fuzzing.headers)
