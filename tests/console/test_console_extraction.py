"""Extraction in the web console over HTTP, beyond uploading and exporting (test_console.py): the
page a table was found on, drawn with the table and its cells outlined where they are, each cell's
source, and configurations made in the editor and used to extract again."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image

from paperworks.jobs.models import JobStatus
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database
from tests.accounts import Account
from tests.console.test_console import signed_in
from tests.extraction.test_extraction_api import ruled_pdf
from tests.job_runs import run_next

ROWS = [["Area", "Sales"], ["North", "120"], ["South", "95"]]


async def extracted(
    client: httpx.AsyncClient, csrf: str, db: Database, runner: LocalRunner, **form: str
) -> str:
    """Uploads a ruled one-table PDF, runs its extraction; the document's page path."""
    response = await client.post(
        "/extraction/documents",
        data={"csrf": csrf, **form},
        files={"file": ("sales.pdf", ruled_pdf(ROWS), "application/pdf")},
    )
    assert response.status_code == 303, response.text
    assert await run_next(db, runner) == JobStatus.succeeded
    return response.headers["location"]


async def test_a_tables_page_is_drawn_with_the_table_and_each_cell_outlined(
    client: httpx.AsyncClient, anna: Account, bob: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    document = await extracted(client, csrf, db, runner)
    page = (await client.get(document)).text

    # An A4 page in points, the picture of it, the table's box and one box per cell.
    assert 'viewBox="0 0 595.3 841.9"' in page
    image = re.search(r'<image href="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert image == f"{document}/pages/1.png"
    assert page.count('class="table-outline"') == 1
    assert page.count('class="cell-outline"') == 6
    north = re.search(r'<td data-cell="1-0" data-source="([^"]+)"[^>]*>North</td>', page)
    assert north, page
    assert north.group(1).startswith("Row 2, column 1: page 1, ")
    assert "pt from the top" in north.group(1)

    png = await client.get(image)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert "private" in png.headers["cache-control"]
    picture = Image.open(io.BytesIO(png.content))
    assert picture.size == (893, 1263)  # A4 at 1.5 times 72 dpi
    assert (await client.get(f"{document}/pages/2.png")).status_code == 404

    client.cookies.clear()
    await signed_in(client, bob)
    assert (await client.get(image)).status_code == 404


async def test_a_configuration_made_in_the_editor_shapes_the_next_extraction(
    client: httpx.AsyncClient, anna: Account, db: Database, runner: LocalRunner
) -> None:
    csrf = await signed_in(client, anna)
    editor = await client.get("/extraction/configurations/new")
    assert editor.status_code == 200
    assert 'name="column-2-name"' in editor.text  # three empty rows to start

    form = {
        "csrf": csrf,
        "name": "Sales by region",
        "columns": "3",
        "column-0-name": "Region",
        "column-0-aliases": "Area, Zone",
        "column-0-type": "text",
        "column-0-required": "on",
        "column-1-name": "Sales",
        "column-1-type": "integer",
        "column-2-name": "",
        "pages": "all",
        "detectionMode": "auto",
        "numberLocale": "1,234.56",
        "dateFormats": "DD.MM.YYYY\n",
        "detectHeader": "on",
        "dropEmptyRows": "on",
    }
    made = await client.post("/extraction/configurations", data=form)
    assert made.status_code == 303, made.text
    configuration = made.headers["location"]
    saved = (await client.get(configuration)).text
    assert 'value="Area, Zone"' in saved
    assert "Version 1" in saved

    twice = await client.post(
        configuration, data={**form, "column-1-name": "region", "column-1-type": "text"}
    )
    assert twice.status_code == 422
    assert "the column name &#39;region&#39; is used twice" in twice.text
    assert 'value="Area, Zone"' in twice.text  # what was typed stays on the page
    bad_pages = await client.post(configuration, data={**form, "pages": "3-1"})
    assert bad_pages.status_code == 422

    configuration_id = configuration.rsplit("/", 1)[1]
    document = await extracted(client, csrf, db, runner, configuration=configuration_id)
    page = (await client.get(document)).text
    assert "Shaped by the configuration" in page
    assert "<strong>Region</strong> ← “Area” (alias)" in page
    assert '<th scope="col">Region</th><th scope="col">Sales</th>' in page
    assert "<td>North</td><td>120</td>" in page

    # Extracting again with the defaults gives the grid without shaping.
    again = await client.post(f"{document}/extract", data={"csrf": csrf, "configuration": ""})
    assert again.status_code == 303
    assert await run_next(db, runner) == JobStatus.succeeded
    assert "Shaped by the configuration" not in (await client.get(document)).text

    missing = await client.get("/extraction/configurations/01NOSUCHCONFIGURATION00000")
    assert missing.status_code == 404
    assert "No such configuration" in missing.text
    assert 'href="/extraction/configurations">All configurations' in missing.text

    archived = await client.post(configuration, data={"csrf": csrf, "action": "archive"})
    assert archived.status_code == 303
    assert "Sales by region" not in (await client.get("/extraction/configurations")).text
    refused = await client.post(
        f"{document}/extract", data={"csrf": csrf, "configuration": configuration_id}
    )
    assert refused.status_code == 422
    assert "is archived" in refused.text
