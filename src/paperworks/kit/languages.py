"""Which language a text is in, and which language a user's `language` field names.

Small on purpose: the products write in a handful of languages, and a request says at most a
page. Scripts tell Chinese, Japanese and Korean apart (kana is Japanese, Hangul Korean, Han alone
Chinese); function words and a few spellings tell the Latin-script languages apart. Statistical
detectors (langdetect, lingua) are steadier on one-line texts only with models of tens of MB, and
either guess at random or refuse on the short prompts this is for.

Codes are ISO 639-1 ("de"); a language this module does not know is `None`, never a guess.
"""

# ruff: noqa: RUF001 - full-width and accented letters are the point here

from __future__ import annotations

import re
import unicodedata

# English names: what a model is told ("Write in German").
NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}

# What people type in a language field, besides the code and the English name.
_ALIASES = {
    "deutsch": "de",
    "allemand": "de",
    "alemán": "de",
    "français": "fr",
    "francais": "fr",
    "französisch": "fr",
    "español": "es",
    "espanol": "es",
    "castellano": "es",
    "spanisch": "es",
    "português": "pt",
    "portugues": "pt",
    "brazilian portuguese": "pt",
    "italiano": "it",
    "italienisch": "it",
    "nederlands": "nl",
    "englisch": "en",
    "anglais": "en",
    "inglés": "en",
    "ingles": "en",
    "inglese": "en",
    "inglês": "en",
    "中文": "zh",
    "汉语": "zh",
    "漢語": "zh",
    "简体中文": "zh",
    "繁體中文": "zh",
    "普通话": "zh",
    "mandarin": "zh",
    "日本語": "ja",
    "にほんご": "ja",
    "한국어": "ko",
}

# fmt: off
_FUNCTION_WORDS = {
    "en": "the a an and or of to in on for with from by is are was be this that these it its "
          "how why what our your we you they not do can will about into at as",
    "de": "der die das den dem des ein eine einen einem einer und oder aber mit von zu zum zur "
          "im am auf für bei aus nach über unter ist sind wird werden wie was nicht sich wir "
          "ihr sie es dass auch durch um vom unsere unser",
    "fr": "le la les un une des du de et ou mais avec pour par sur dans au aux est sont ce "
          "cette ces qui que comment nous vous ils elles il elle ne pas plus se leur leurs "
          "en à d l qu",
    "es": "el la los las un una unos unas y o pero con para por en del al de es son este "
          "esta estos estas que qué cómo nosotros ellos ella no más se su sus lo como muy "
          "entre nuestra nuestro",
    "pt": "o a os as um uma e ou mas com para por em no na nos nas do da dos das de é são "
          "este esta que como nós eles elas não mais se seu sua ao aos pelo pela nossa nosso",
    "it": "il lo la i gli le un uno una e o ma con per in nel nella nei nelle del della dei "
          "delle di da dal dalla al alla ai è sono questo questa che come noi voi loro non "
          "più si anche nostra nostro",
    "nl": "de het een en of maar met van voor op in is zijn wordt hoe wat niet wij jullie "
          "ze ook door naar bij",
}
# fmt: on
_WORDS = {code: frozenset(words.split()) for code, words in _FUNCTION_WORDS.items()}
# Spellings one language has and its neighbours do not: "-ción" is Spanish, "-ção" Portuguese.
_SPELLINGS = {
    "de": re.compile(r"ß|[äöü]|\w(?:ung|heit|keit|schaft)\b|sch", re.I),
    "fr": re.compile(r"[èêëœ]|ç[aou]|\w(?:eux|eaux)\b|qu['’]", re.I),
    "es": re.compile(r"ñ|[¿¡]|ción\b|\w(?:dad|ado|ido)\b", re.I),
    "pt": re.compile(r"[ãõ]|ção\b|ções\b|\w(?:dade|agem)\b|lh|nh", re.I),
    "it": re.compile(r"\w(?:zione|zioni|mento|ità)\b|gli\b|\bchi|zz", re.I),
}
_WORD = re.compile(r"[^\W\d_]+")
_ELISION = re.compile(r"\b([dlj]|qu)['’]", re.I)  # "l'intelligence" is "l" and "intelligence"


def language_code(name: str | None) -> str | None:
    """The code a language field names: "de", "de-DE", "German", "Deutsch" -> "de"."""
    text = " ".join((name or "").split()).casefold().split(" (")[0]  # "English (US)"
    if not text:
        return None
    base = re.split(r"[-_]", text, maxsplit=1)[0]
    if base in NAMES:
        return base
    by_name = {english.casefold(): code for code, english in NAMES.items()}
    return by_name.get(text) or _ALIASES.get(text)


def detect_language(text: str) -> str | None:
    """The language `text` is most likely written in, or None when it does not say."""
    han = kana = hangul = latin = 0
    for character in text:
        if not character.isalpha():
            continue
        name = unicodedata.name(character, "")
        if name.startswith("CJK"):
            han += 1
        elif name.startswith(("HIRAGANA", "KATAKANA")):
            kana += 1
        elif name.startswith("HANGUL"):
            hangul += 1
        elif name.startswith("LATIN"):
            latin += 1
    if hangul and hangul >= han:
        return "ko"
    if kana:
        return "ja"
    if han and han * 2 >= latin / 3:  # a Chinese sentence has few letters per word
        return "zh"
    return _latin_language(text) if latin else None


def _latin_language(text: str) -> str | None:
    words = [word.casefold() for word in _WORD.findall(_ELISION.sub(r"\1 ", text))]
    if not words:
        return None
    scores = {code: float(sum(word in found for word in words)) for code, found in _WORDS.items()}
    for code, spelling in _SPELLINGS.items():
        # A spelling is a hint, weighed below a function word: names borrow spellings.
        scores[code] += 0.5 * min(3, len(spelling.findall(text)))
    best = max(scores.values())
    if best == 0:
        return None
    leaders = [code for code, score in scores.items() if score == best]
    # A tie with English goes to English: a short English title has few function words.
    return leaders[0] if len(leaders) == 1 else ("en" if "en" in leaders else None)
