"""Extraction with a language model configured (faked with respx at the HTTP layer): the headers
no name, alias or fuzzy match decides are mapped by the model, its answer cached for the next
document with the same headers; a model that fails or talks nonsense leaves those columns
unmapped with one issue and the job still succeeds; offline the model is never asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tenacity import wait_none

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from paperworks.settings import Settings
from tests.accounts import Account
from tests.conftest import make_settings
from tests.extraction.test_documents_api import API, uploaded
from tests.extraction.test_extraction_api import extract, ok
from tests.fake_model import MODEL, FakeModel, model_settings
from tests.job_runs import run_next

GERMAN_CSV = (
    "Buchungstag;Verwendungszweck;Betrag (EUR);Notiz\n"
    "31.03.2026;Miete;-950,00;März\n"
    "01.04.2026;Strom;-80,50;\n"
).encode()
SETTINGS = {
    "columns": [
        {"name": "Posting date", "type": "date"},
        {"name": "Description", "aliases": ["Verwendungszweck"]},
        {"name": "Amount", "type": "decimal", "required": True},
    ],
    "numberLocale": "1.234,56",
    "dateFormats": ["DD.MM.YYYY"],
}
ANSWER = {
    "mapping": [
        {"column": "Posting date", "header": "Buchungstag"},
        {"column": "Amount", "header": "Betrag (EUR)"},
    ]
}


@pytest.fixture
def model_online() -> bool:
    """Whether the process has a model configured (a test parametrizes it to go offline)."""
    return True


@pytest.fixture
def settings(tmp_path: Path, database_url: str, model_online: bool) -> Settings:
    model = model_settings() if model_online else {}
    return make_settings(tmp_path / "data", database_url=database_url, llm_max_retries=1, **model)


@pytest.fixture
def no_backoff(app: FastAPI) -> None:
    """The model's retries, as the platform's policy makes them, without waiting between."""
    app.state.services.llm.wait = wait_none()


async def extracted_table(
    client: httpx.AsyncClient,
    anna: Account,
    db: Database,
    runner: LocalRunner,
    configuration_id: str,
    name: str = "statement.csv",
) -> dict[str, Any]:
    """Upload the German CSV, extract it with the configuration (the job must succeed) and
    read back its one table."""
    document = await uploaded(client, anna.headers, name, GERMAN_CSV)
    job_id = await extract(client, anna.headers, document["id"], configurationId=configuration_id)
    assert await run_next(db, runner) == JobStatus.succeeded
    listed = await ok(await client.get(f"{API}/jobs/{job_id}/tables", headers=anna.headers))
    (summary,) = listed["items"]
    table: dict[str, Any] = await ok(
        await client.get(f"{API}/tables/{summary['id']}", headers=anna.headers)
    )
    return table


async def english_configuration(client: httpx.AsyncClient, anna: Account) -> str:
    body = {"name": "Statements", "settings": SETTINGS}
    created = await ok(
        await client.post(f"{API}/configurations", json=body, headers=anna.headers), 201
    )
    configuration_id: str = created["id"]
    return configuration_id


def mapped(table: dict[str, Any]) -> list[tuple[str | None, str | None, str]]:
    return [(m["column"], m["sourceHeader"], m["method"]) for m in table["mapping"]]


async def test_the_model_maps_german_headers_and_its_answer_is_cached(
    fake_model: FakeModel,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    fake_model.answers(ANSWER)
    configuration_id = await english_configuration(client, anna)

    table = await extracted_table(client, anna, db, runner, configuration_id)
    assert mapped(table) == [
        ("Posting date", "Buchungstag", "llm"),
        ("Description", "Verwendungszweck", "alias"),
        ("Amount", "Betrag (EUR)", "llm"),
        (None, "Notiz", "unmapped"),
    ]
    assert [m["score"] for m in table["mapping"][:3]] == [None, 100.0, None]
    assert table["header"] == ["Posting date", "Description", "Amount"]
    assert table["rows"] == [
        {"Posting date": "2026-03-31", "Description": "Miete", "Amount": "-950.00"},
        {"Posting date": "2026-04-01", "Description": "Strom", "Amount": "-80.50"},
    ]
    assert table["issues"] == []

    # The model was shown only what the rules left undecided, and asked for JSON.
    (sent,) = fake_model.requests
    assert sent["model"] == MODEL
    assert sent["response_format"]["type"] == "json_schema"
    asked = json.loads(sent["messages"][-1]["content"])
    assert asked["sourceHeaders"] == ["Buchungstag", "Betrag (EUR)", "Notiz"]
    assert [c["name"] for c in asked["configuredColumns"]] == ["Posting date", "Amount"]

    # Another statement with the same headers: the cached answer, the model not asked again.
    again = await extracted_table(client, anna, db, runner, configuration_id, "april.csv")
    assert mapped(again) == mapped(table)
    assert again["rows"] == table["rows"]
    assert fake_model.call_count == 1


@pytest.mark.parametrize("failure", ["server error", "nonsense"])
async def test_a_model_that_fails_leaves_the_columns_unmapped_and_the_job_succeeds(
    failure: str,
    fake_model: FakeModel,
    no_backoff: None,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    if failure == "server error":
        fake_model.fails(500, "upstream down", times=2)  # the call and its one retry
    else:
        fake_model.says("Sure! Buchungstag is the posting date.", times=2)  # and the repair
    configuration_id = await english_configuration(client, anna)

    table = await extracted_table(client, anna, db, runner, configuration_id)
    assert mapped(table)[:3] == [
        ("Posting date", None, "missing"),
        ("Description", "Verwendungszweck", "alias"),
        ("Amount", None, "missing"),
    ]
    unavailable = [i for i in table["issues"] if i["code"] == "mapping_model_unavailable"]
    assert len(unavailable) == 1
    assert "'Posting date', 'Amount'" in unavailable[0]["message"]
    assert unavailable[0]["message"].startswith(
        "Asking the language model which headers are which failed: The "
    )
    assert "upstream down" not in unavailable[0]["message"]
    assert [r["Amount"] for r in table["rows"]] == [None, None]
    assert fake_model.call_count == 2

    # A failure is not cached: the next extraction asks again, and this time gets an answer.
    fake_model.answers(ANSWER)
    again = await extracted_table(client, anna, db, runner, configuration_id, "again.csv")
    assert mapped(again)[2] == ("Amount", "Betrag (EUR)", "llm")
    assert not [i for i in again["issues"] if i["code"] == "mapping_model_unavailable"]
    assert fake_model.call_count == 3


@pytest.mark.parametrize("model_online", [False])
async def test_offline_the_model_is_never_asked(
    fake_model: FakeModel,
    client: httpx.AsyncClient,
    db: Database,
    runner: LocalRunner,
    anna: Account,
) -> None:
    configuration_id = await english_configuration(client, anna)
    table = await extracted_table(client, anna, db, runner, configuration_id)
    assert mapped(table)[:3] == [
        ("Posting date", None, "missing"),
        ("Description", "Verwendungszweck", "alias"),
        ("Amount", None, "missing"),
    ]
    assert [i["code"] for i in table["issues"]][:1] == ["missing_column"]
    assert "mapping_model_unavailable" not in [i["code"] for i in table["issues"]]
    assert fake_model.call_count == 0
    assert not fake_model.route.called
