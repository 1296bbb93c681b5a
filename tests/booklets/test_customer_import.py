"""Customers and attributes imported from a CSV file as a spreadsheet saves it: every row or none,
and every bad row named by its line."""

from __future__ import annotations

from typing import Any

import httpx

from tests.accounts import Account
from tests.booklets.conftest import API
from tests.problems import assert_problem


async def send(client: httpx.AsyncClient, account: Account, text: str | bytes) -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    return await client.post(
        f"{API}/customers/import",
        files={"file": ("customers.csv", data, "text/csv")},
        headers=account.headers,
    )


async def customers(client: httpx.AsyncClient, account: Account) -> dict[str, dict[str, Any]]:
    """Each customer by name, with its reference and attributes by (key, year, quarter)."""
    listed = (await client.get(f"{API}/customers", headers=account.headers)).json()["items"]
    found = {}
    for customer in listed:
        rows = (
            await client.get(
                f"{API}/customers/{customer['id']}/attributes", headers=account.headers
            )
        ).json()
        found[customer["name"]] = {
            "ref": customer["externalRef"],
            "attributes": {(r["key"], r["year"], r["quarter"]): r["value"] for r in rows},
        }
    return found


QUARTER = """name,external_ref,key,value,year,quarter
Acme GmbH,A-1,tier,gold,,
Acme GmbH,A-1,revenue,"1,200.50",2026,1
Acme GmbH,A-1,revenue,980,2026,2
Globex,,tier,silver,,
Initech,I-9,,,,
"""


async def test_a_file_adds_customers_and_their_attributes_per_period(
    client: httpx.AsyncClient, anna: Account
) -> None:
    answer = await send(client, anna, QUARTER)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "customersCreated": 3,
        "customersUpdated": 0,
        "attributesWritten": 4,
        "rows": 5,
    }
    assert await customers(client, anna) == {
        "Acme GmbH": {
            "ref": "A-1",
            "attributes": {
                ("tier", None, None): "gold",
                ("revenue", 2026, 1): "1,200.50",
                ("revenue", 2026, 2): "980",
            },
        },
        "Globex": {"ref": None, "attributes": {("tier", None, None): "silver"}},
        "Initech": {"ref": "I-9", "attributes": {}},
    }

    # The next quarter's file: found by reference (and renamed), by name, or new.
    again = await send(
        client,
        anna,
        "name,external_ref,key,value,year,quarter\n"
        "Acme AG,A-1,revenue,1010,2026,2\n"
        "Globex,,tier,gold,,\n"
        "Umbrella,,tier,bronze,,\n",
    )
    assert again.json() == {
        "customersCreated": 1,
        "customersUpdated": 2,
        "attributesWritten": 3,
        "rows": 3,
    }
    now = await customers(client, anna)
    assert sorted(now) == ["Acme AG", "Globex", "Initech", "Umbrella"]
    assert now["Acme AG"]["attributes"][("revenue", 2026, 2)] == "1010"
    assert now["Acme AG"]["attributes"][("revenue", 2026, 1)] == "1,200.50"
    assert now["Globex"]["attributes"] == {("tier", None, None): "gold"}

    events = await client.get(
        f"{API}/events", params={"type": "customer.created"}, headers=anna.headers
    )
    assert len(events.json()["items"]) == 4


async def test_a_file_with_a_bad_row_imports_nothing_and_names_every_bad_line(
    client: httpx.AsyncClient, anna: Account
) -> None:
    answer = await send(
        client,
        anna,
        "name,external_ref,key,value,year,quarter\n"
        "Acme,A-1,tier,gold,,\n"  # line 2: fine
        "Acme,A-1,revenue,10,20x6,\n"  # 3: not a year
        "Acme,A-1,revenue,10,,2\n"  # 4: a quarter with no year
        "\n"
        "Globex,,revenue,10,2026,5\n"  # 6: no fifth quarter
        ",,tier,gold,,\n"  # 7: whose?
        "Initech,,,orphan,,\n"  # 8: a value with no key
        "Acme Corp,A-1,tier,gold,,\n",  # 9: the same reference under another name
    )
    body = assert_problem(answer, 422, "customers.import_rows")
    assert [(e["line"], e["field"]) for e in body["errors"]] == [
        (3, "year"),
        (4, None),
        (6, "quarter"),
        (7, "name"),
        (8, "key"),
        (9, "name"),
    ]
    assert "a quarter needs a year" in body["errors"][1]["message"]
    assert "'Acme' on line 2" in body["errors"][5]["message"]
    assert await customers(client, anna) == {}


async def test_spreadsheet_habits_are_understood(client: httpx.AsyncClient, anna: Account) -> None:
    # Excel in many locales: a byte order mark, semicolons, headers written as words.
    header = "\ufeffName;External Ref;Key;Value;Year;Quarter\r\n"
    unquoted = await send(client, anna, header + "Müller & Söhne;M-1;städte;Köln; Bonn;2026;3\r\n")
    body = assert_problem(unquoted, 422, "customers.import_rows")
    assert body["errors"] == [
        {
            "line": 2,
            "field": None,
            "message": "more cells than columns; quote a value that holds the separator",
        }
    ]

    answer = await send(client, anna, header + 'Müller & Söhne;M-1;städte;"Köln; Bonn";2026;3\r\n')
    assert answer.status_code == 200, answer.text
    assert await customers(client, anna) == {
        "Müller & Söhne": {"ref": "M-1", "attributes": {("städte", 2026, 3): "Köln; Bonn"}}
    }


async def test_a_file_that_is_not_a_customer_list_is_refused(
    client: httpx.AsyncClient, anna: Account
) -> None:
    unknown = assert_problem(
        await send(client, anna, "name,colour\nAcme,red\n"), 422, "customers.import_columns"
    )
    assert "'colour'" in unknown["detail"]
    assert unknown["errors"] == [
        {"choices": ["name", "external_ref", "key", "value", "year", "quarter"]}
    ]
    assert_problem(
        await send(client, anna, "key,value\ntier,gold\n"), 422, "customers.import_columns"
    )
    assert_problem(
        await send(client, anna, "name,key\nAcme,tier\n"), 422, "customers.import_columns"
    )
    assert_problem(await send(client, anna, ""), 422, "customers.import_empty")
    latin1 = "name\nMüller\n".encode("latin-1")
    assert_problem(await send(client, anna, latin1), 422, "customers.import_encoding")
    assert await customers(client, anna) == {}


async def test_a_name_is_matched_only_when_it_is_unambiguous(
    client: httpx.AsyncClient, anna: Account, bob: Account
) -> None:
    for _ in range(2):
        await client.post(f"{API}/customers", json={"name": "Twin"}, headers=anna.headers)
    answer = await send(client, anna, "name,key,value\nTwin,tier,gold\n")
    body = assert_problem(answer, 422, "customers.import_rows")
    assert body["errors"][0]["line"] == 2
    assert "2 customers are named 'Twin'" in body["errors"][0]["message"]

    unknown_ref = await send(client, anna, "external_ref,key,value\nNOPE-1,tier,gold\n")
    body = assert_problem(unknown_ref, 422, "customers.import_rows")
    assert body["errors"][0]["message"] == "a new customer needs a name"

    # Another workspace's references are not ours: bob gets a customer of his own.
    await send(client, anna, "name,external_ref\nAcme,A-1\n")
    answer = await send(client, bob, "name,external_ref,key,value\nBob's Acme,A-1,tier,gold\n")
    assert answer.json()["customersCreated"] == 1
    assert (await customers(client, anna))["Acme"]["attributes"] == {}
