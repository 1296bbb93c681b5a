"""Which language a text is in, and which one a language field names."""

from __future__ import annotations

import pytest

from paperworks.kit.languages import detect_language, language_code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("de", "de"),
        ("de-DE", "de"),
        ("pt_BR", "pt"),
        ("German", "de"),
        ("Deutsch", "de"),
        ("  français ", "fr"),
        ("Español", "es"),
        ("English (US)", "en"),
        ("中文", "zh"),
        ("日本語", "ja"),
        ("Klingon", None),
        ("", None),
        (None, None),
    ],
)
def test_a_language_field_names_a_code(name: str | None, code: str | None) -> None:
    assert language_code(name) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("How to start a small coffee roasting business", "en"),
        ("Regeln für das Homeoffice in unserem Team", "de"),
        ("L'intelligence artificielle dans les hôpitaux", "fr"),
        ("Prevención de la diabetes tipo 2", "es"),
        ("A história do futebol no Brasil", "pt"),
        ("Il Rinascimento a Firenze", "it"),
        ("远程办公的优点和挑战", "zh"),
        ("日本のお花見の歴史と楽しみ方", "ja"),  # kana: Japanese, though it has Han too
        ("원격 근무의 장단점", "ko"),
    ],
)
def test_the_language_of_a_text(text: str, code: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize(
    "text",
    ["Photosynthesis", "Kubernetes", "???", "", "Η ιστορία της Αθήνας"],  # noqa: RUF001
)
def test_a_text_that_does_not_say_is_not_guessed(text: str) -> None:
    assert detect_language(text) is None
