"""The web console in a real browser: Debian's Chromium driven by Playwright against a real
`paperworks serve`. A new user asks for a sign-in link, reads it from the outbox, signs in,
makes a deck, watches its progress bar reach the end and downloads it. Every screen is saved as
a PNG under build/console-screens/ for a reviewer to look at, and checked with axe-core for
serious accessibility violations.

Chromium is never downloaded: the test skips with the reason when /usr/bin/chromium (Debian's
`chromium`, which .ci/run installs) or axe-core (tests/js, `npm ci`) is missing."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from pptx import Presentation

from tests.booklets.conftest import form, make_pdf
from tests.e2e.servers import Server, start
from tests.extraction.test_extraction_api import ruled_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = Path(__file__).parents[2] / "build" / "console-screens"
PROMPT = (
    "Team offsite 2027\nDay one:\n- Arrival and lunch by the lake\n- Strategy workshop\n"
    "Day two:\n- Hike to the old mill\n- Retrospective and goals"
)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a dev dependency")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci in tests/js)")
    yield from start(tmp_path)


def outbox_link(server_data: Path) -> str:
    mail = json.loads((server_data / "outbox.jsonl").read_text().splitlines()[-1])
    found = re.search(r"https?://\S+", mail["text"])
    assert found, mail
    return found.group(0)


def test_sign_in_by_mailed_link_then_make_watch_and_download_a_deck(
    server: Server, tmp_path: Path
) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # bypass_csp only so the test can add axe-core; the pages' own policy is tested over HTTP.
        context = browser.new_context(
            base_url=server.url, accept_downloads=True, bypass_csp=True, viewport=None
        )
        page = context.new_page()
        seen: list[str] = []

        def screen(name: str) -> None:
            page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
            serious = no_serious_violations(page)
            assert serious == [], (name, serious)
            seen.append(name)

        page.goto("/")
        assert page.url.endswith("/sign-in?next=/")
        screen("sign-in")

        page.get_by_label("Email", exact=True).nth(1).fill("new.user@example.com")
        page.get_by_role("button", name="Email me a link").click()
        page.get_by_text("A sign-in link is on its way").wait_for()
        screen("link-sent")

        link = outbox_link(tmp_path / "var")
        page.goto(link)
        screen("magic-link")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="Welcome, new.user@example.com").wait_for()
        screen("home")

        page.get_by_role("link", name="Decks").first.click()
        page.get_by_label("What is it about?").fill(PROMPT)
        page.get_by_label("Slides", exact=True).fill("6")
        page.get_by_label("Midnight").check()
        screen("decks")
        page.get_by_role("button", name="Build the deck").click()

        # The bar follows the job's events to its end; then the page shows the result.
        page.wait_for_function(
            "() => !document.querySelector('progress') ||"
            " document.querySelector('progress').value === 100",
            polling="raf",
            timeout=60_000,
        )
        download_link = page.get_by_role("link", name="Download the .pptx")
        download_link.wait_for(timeout=60_000)
        assert page.locator("#deck-status").inner_text() == "ready"
        screen("deck-ready")
        with page.expect_download() as waiting:
            download_link.click()
        saved = tmp_path / "deck.pptx"
        waiting.value.save_as(saved)

        page.get_by_role("link", name="All decks").click()
        page.get_by_role("cell", name="ready").wait_for()
        screen("deck-list")
        page.get_by_role("link", name="Jobs").click()
        page.get_by_role("cell", name="succeeded").first.wait_for()
        screen("jobs")
        page.get_by_role("link", name="timeline").first.click()
        page.get_by_text("job.succeeded").wait_for()
        screen("timeline")
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("A new key's name").fill("laptop")
        page.get_by_role("button", name="Create the key").click()
        page.get_by_text("it is shown this once").wait_for()
        screen("settings")
        page.get_by_role("link", name="The workspace's webhooks").click()
        page.get_by_label("Endpoint URL").fill("https://hooks.example.com/paperworks")
        page.get_by_label("deck.built").check()
        page.get_by_role("button", name="Add the webhook").click()
        page.get_by_text("it is shown this once").wait_for()
        screen("webhook")
        context.close()
        browser.close()

    presentation = Presentation(io.BytesIO(saved.read_bytes()))
    titles = [slide.shapes.title.text_frame.text for slide in presentation.slides]
    assert titles[0] == "Team offsite 2027"
    assert "Day one" in titles
    assert seen == [
        "sign-in",
        "link-sent",
        "magic-link",
        "home",
        "decks",
        "deck-ready",
        "deck-list",
        "jobs",
        "timeline",
        "settings",
        "webhook",
    ]


def no_serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(
        """async () => (await axe.run(document)).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    return found


def sign_in_by_link(page: Any, data: Path, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email", exact=True).nth(1).fill(email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("A sign-in link is on its way").wait_for()
    page.goto(outbox_link(data))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name=f"Welcome, {email}").wait_for()


def test_a_plan_is_edited_and_reordered_in_the_browser_before_it_is_built(
    server: Server, tmp_path: Path
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(base_url=server.url).new_page()
        sign_in_by_link(page, tmp_path / "var", "planner@example.com")

        page.goto("/decks")
        page.get_by_label("What is it about?").fill(PROMPT)
        page.get_by_role("button", name="Plan it first").click()
        page.get_by_role("heading", name="Team offsite 2027").wait_for()
        titles = page.locator("input[id^='title-']")
        day_one = [titles.nth(n).input_value() for n in range(titles.count())].index("Day one")
        page.locator(f"#bullets-{day_one}").fill("Arrival by train\nWorkshop on goals")
        page.get_by_role("button", name=f"Move slide {day_one + 1} down").click()
        page.locator(f"#title-{day_one + 1}").wait_for()
        assert page.locator(f"#title-{day_one + 1}").input_value() == "Day one"
        assert page.locator(f"#bullets-{day_one + 1}").input_value() == (
            "Arrival by train\nWorkshop on goals"
        )
        page.screenshot(path=str(SCREENS / "deck-plan.png"), full_page=True)
        page.get_by_role("button", name="Save and build").click()
        page.get_by_role("link", name="Download the .pptx").wait_for(timeout=60_000)
        browser.close()


def test_chat_add_buy_milk_and_see_the_task_appear_beside_the_chat(
    server: Server, tmp_path: Path
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(base_url=server.url, bypass_csp=True).new_page()
        sign_in_by_link(page, tmp_path / "var", "chatter@example.com")

        page.get_by_role("link", name="Assistant").first.click()
        panel = page.get_by_role("complementary")
        panel.get_by_text("No tasks yet.").wait_for()
        page.get_by_label("Message").fill("add buy milk")
        # The page's script asks for the reply as a stream and writes it out as it comes.
        with page.expect_response(
            lambda r: r.url.endswith("/assistant") and r.request.method == "POST"
        ) as answered:
            page.get_by_role("button", name="Send").click()
        assert answered.value.headers["content-type"].startswith("text/event-stream")
        page.get_by_text("1 tool call").click()  # the tool calls, folded under the reply
        page.get_by_text("add_task").wait_for()
        panel.get_by_text("buy milk").wait_for()

        # The panel follows changes made elsewhere (another tab, the API) without a reload.
        other = page.context.new_page()
        other.goto("/tasks")
        other.get_by_role("button", name="Complete “buy milk”").click()
        page.locator(".tasks li.done").wait_for(timeout=15_000)
        page.screenshot(path=str(SCREENS / "assistant.png"), full_page=True)
        assert no_serious_violations(page) == []
        browser.close()


def test_upload_a_pdf_with_a_table_extract_it_and_export_csv(
    server: Server, tmp_path: Path
) -> None:
    pdf = tmp_path / "sales.pdf"
    pdf.write_bytes(ruled_pdf([["Region", "Sales"], ["North", "120"], ["South", "95"]]))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=server.url, accept_downloads=True, bypass_csp=True)
        page = context.new_page()
        sign_in_by_link(page, tmp_path / "var", "analyst@example.com")

        page.get_by_role("link", name="Extraction").first.click()
        page.get_by_label("A PDF, an XLSX workbook or a CSV file").set_input_files(str(pdf))
        page.get_by_role("button", name="Upload and extract").click()
        page.get_by_role("cell", name="North").wait_for(timeout=60_000)
        # The page is drawn beside the grid; picking a cell marks its box on the page and says
        # where it came from.
        page.get_by_role("cell", name="North").click()
        page.locator("rect.cell-outline.picked").wait_for()
        assert page.locator("[data-cell-source]").inner_text().startswith("Row 2, column 1: page 1")
        loaded = page.evaluate(
            "() => new Promise((done) => { const img = new Image(); img.onload = () =>"
            " done(img.naturalWidth); img.onerror = () => done(0);"
            " img.src = document.querySelector('svg image').getAttribute('href'); })"
        )
        assert loaded > 800
        page.screenshot(path=str(SCREENS / "extraction.png"), full_page=True)
        assert no_serious_violations(page) == []
        with page.expect_download() as waiting:
            page.get_by_role("link", name="CSV").click()
        saved = tmp_path / "table.csv"
        waiting.value.save_as(saved)
        browser.close()

    assert saved.read_text(encoding="utf-8-sig").splitlines()[1:] == ["North,120", "South,95"]


def test_build_a_booklet_of_two_pages_for_one_customer_and_download_it(
    server: Server, tmp_path: Path
) -> None:
    cover, letter = tmp_path / "cover.pdf", tmp_path / "letter.pdf"
    cover.write_bytes(make_pdf("WELCOME PACK"))
    letter.write_bytes(form("pypdf-form.pdf"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=server.url, accept_downloads=True, bypass_csp=True)
        page = context.new_page()

        def screen(name: str) -> None:
            page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
            assert no_serious_violations(page) == [], name

        sign_in_by_link(page, tmp_path / "var", "ops@example.com")
        page.get_by_role("link", name="Booklets").first.click()
        page.get_by_label("Name").fill("Welcome pack")
        screen("booklets")
        page.get_by_role("button", name="Create the book").click()
        page.get_by_role("heading", name="Welcome pack").wait_for()

        page.get_by_label("Title").fill("Cover")
        page.get_by_label("Upload its file").set_input_files(str(cover))
        page.get_by_role("button", name="Add the page").click()
        page.get_by_role("heading", name="Cover").wait_for()
        page.get_by_role("link", name="Welcome pack").click()

        page.get_by_label("Title").fill("Letter")
        page.get_by_label("Kind of page").select_option("pdf_form")
        page.get_by_label("Upload its file").set_input_files(str(letter))
        page.get_by_role("button", name="Add the page").click()
        # The form's own field is listed; its value is a template over the customer.
        page.get_by_label("foo").fill("Dear {{ customer.name }}")
        screen("booklet-page-editor")
        # On to the next field: headless Chromium's suggestion list, open while the field has
        # focus, takes the mouse-up of a click on the button below it.
        page.keyboard.press("Tab")
        with page.expect_navigation():
            page.get_by_role("button", name="Save the page").click()
        assert page.get_by_label("foo").input_value() == "Dear {{ customer.name }}"
        page.get_by_role("link", name="Welcome pack").click()

        # Drag the letter above the cover: the new order is saved at once.
        pages = page.locator("ol.pages > li")
        pages.nth(1).drag_to(pages.nth(0), target_position={"x": 20, "y": 5})
        page.wait_for_function(
            "() => document.querySelector('ol.pages > li strong').textContent === 'Letter'"
        )
        page.reload()
        assert pages.nth(0).locator("strong").inner_text() == "Letter"
        screen("book")

        page.get_by_role("link", name="Customers").first.click()
        page.get_by_label("Name", exact=True).fill("ACME GmbH")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_role("heading", name="ACME GmbH").wait_for()
        page.get_by_label("Name", exact=True).first.fill("region")
        page.get_by_label("Value", exact=True).fill("North")
        page.get_by_role("button", name="Set", exact=True).click()
        page.get_by_role("cell", name="North").wait_for()
        screen("customer")

        page.get_by_role("link", name="Books and booklets").click()
        page.get_by_role("link", name="Welcome pack").click()
        page.get_by_label("Customer").select_option(label="ACME GmbH")
        page.get_by_role("button", name="Preview this customer's booklet").click()
        page.get_by_role("cell", name="Dear ACME GmbH").wait_for()
        screen("booklet-preview")
        page.get_by_role("button", name="Generate this booklet").click()
        download_link = page.get_by_role("link", name="Download the PDF")
        download_link.wait_for(timeout=60_000)
        screen("booklet")
        with page.expect_download() as waiting:
            download_link.click()
        saved = tmp_path / "booklet.pdf"
        waiting.value.save_as(saved)
        browser.close()

    reader = pypdf.PdfReader(saved)
    assert len(reader.pages) == 2
    assert "Dear ACME GmbH" in reader.pages[0].extract_text()
    assert "WELCOME PACK" in reader.pages[1].extract_text()
