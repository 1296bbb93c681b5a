"""Names are sanitised on the way in and quoted safely on the way out."""

from __future__ import annotations

import pytest

from paperworks.files.filenames import content_disposition, extension_of, safe_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\config", "config"),
        ("C:\\Users\\anna\\Q3 report.xlsx", "Q3 report.xlsx"),
        ("reports/", "reports"),
        ("..", "file"),
        ("../..", "file"),
        ("", "file"),
        (None, "file"),
        ("   ", "file"),
        ("\x00\x01\x1f\x7f", "file"),
        (".bashrc", "bashrc"),
        ("trailing dots...", "trailing dots"),
        ("new\nline\r.txt", "new line .txt"),
        ("bell\x07.txt", "bell.txt"),
        ("tab\tand  spaces   here.txt", "tab and spaces here.txt"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # a right-to-left override would show "exe.png"
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ('what?*<>:"|.txt', "what_______.txt"),
        ("full\uff0fwidth\uff3cslash.pdf", "slash.pdf"),
        ("Zpr\u0061\u0301vy.pdf", "Zpr\u00e1vy.pdf"),  # NFC
        ("Grüße 2024.csv", "Grüße 2024.csv"),
    ],
)
def test_names_are_sanitised(raw: str | None, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_long_names_are_cut_to_255_bytes_keeping_the_extension() -> None:
    name = safe_filename("é" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255
    assert name[:-4] == "é" * len(name[:-4])  # no half characters


def test_the_extension_is_read_case_insensitively() -> None:
    assert extension_of("Report.PDF") == ".pdf"
    assert extension_of("archive.tar.gz") == ".gz"
    assert extension_of("README") == ""


def test_content_disposition_carries_an_ascii_fallback_and_the_utf8_name() -> None:
    assert content_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert content_disposition("Grüße 100%.csv") == (
        "attachment; filename=\"Gr__e 100_.csv\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20100%25.csv"
    )
