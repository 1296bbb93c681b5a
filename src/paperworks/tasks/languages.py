"""German, French, Spanish and Chinese task commands, said again in the English that
`tasks.commands` reads.

A command no English phrase understood is tried against each language's patterns; the first
pattern of a language that matches the whole command gives its English form: "lösche Milch
kaufen" -> "delete Milch kaufen", "把买牛奶标记为完成" -> "mark 买牛奶 done". Titles stay in the
user's words; only the words around them change: dates ("morgen", "demain", "mañana", "明天"),
priorities ("hohe Priorität", "urgent", "alta", "高优先级"), words for the task last acted on or a
place in the last list ("es", "la deuxième", "el último", "第二个") and words for many tasks
("alle Aufgaben", "tout", "todas", "所有任务"), which English then refuses as it refuses "all".

Rules are (pattern, English template): `{x}` is a new task's text (dates and priorities inside it
are put into English), `{r}` the words naming a task, `{y}` a new title, `{d}` a date, `{n}` a
description, `{l}` a priority level.
"""

# Each language is a table of phrases: a pattern per line reads better than one wrapped at 100
# columns, and the full-width colon is Chinese punctuation, meant.
# ruff: noqa: E501, RUF001

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_I = re.I
Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class _Language:
    rules: Sequence[tuple[re.Pattern[str], str]]
    words: Sequence[tuple[re.Pattern[str], Replacement]]  # dates, priorities, notes in a text
    references: dict[str, str]  # a whole reference: pronouns, places in a list, "all"
    levels: dict[str, str]
    asking: _ListWords  # the words of a question about the task list, tried first


@dataclass(frozen=True)
class _ListWords:
    """A question about the task list is made of these words only, and names the list."""

    words: frozenset[str]  # every word such a question may hold
    subjects: frozenset[str]  # at least one of these: what makes it about tasks
    pending: frozenset[str] = frozenset()
    done: frozenset[str] = frozenset()
    overdue: frozenset[str] = frozenset()


def in_english(text: str) -> tuple[str, ...]:
    """The English form of `text` in each language one of whose patterns matches it."""
    found = []
    for language in LANGUAGES:
        english = _said_in_english(text.strip(), language)
        if english is not None:
            found.append(english)
    return tuple(found)


_COURTESY = re.compile(
    r"(?<!\w)(?:bitte|danke|s'il\s+(?:te|vous)\s+pla[iî]t|merci|por\s+favor|gracias)(?!\w)[\s,!.]*"
    r"|^(?:请|麻烦你|麻烦)|(?:谢谢|吧)$",
    re.I,
)


def _said_in_english(text: str, language: _Language) -> str | None:
    text = " ".join(_COURTESY.sub(" ", text).split()).strip(" ,")
    question = _list_question(text, language)
    if question is not None:
        return question
    for pattern, template in language.rules:
        found = pattern.match(text)
        if found is None:
            continue
        parts = {name: value.strip() for name, value in found.groupdict().items() if value}
        filled = {
            "x": _words(parts.get("x", ""), language),
            "r": _reference(parts.get("r", ""), language),
            "y": parts.get("y", ""),
            "d": _words(parts.get("d", ""), language),
            "n": parts.get("n", ""),
            "l": language.levels.get(parts.get("l", "").casefold(), "high"),
        }
        return " ".join(template.format(**filled).split())
    return None


def _list_question(text: str, language: _Language) -> str | None:
    asking = language.asking
    words = _tokens(text)
    if not words or not set(words) <= asking.words | asking.subjects:
        return None
    if not set(words) & asking.subjects:
        return None
    if set(words) & asking.overdue:
        return "what's overdue"
    if set(words) & asking.done:
        return "show completed tasks"
    if set(words) & asking.pending:
        return "what's pending"
    return "show my tasks"


def _tokens(text: str) -> list[str]:
    """Words, and each CJK character on its own: Chinese writes no spaces."""
    return re.findall(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\d_]+(?:['’-][^\W\d_]+)*", text.casefold())


def _words(text: str, language: _Language) -> str:
    for pattern, english in language.words:
        text = pattern.sub(english, text)
    return " ".join(text.split())


def _reference(text: str, language: _Language) -> str:
    key = " ".join(text.casefold().split())
    numbered = _NUMBERED.fullmatch(key)
    if numbered:
        return numbered[1]
    return language.references.get(key, text)


_NUMBERED = re.compile(
    r"(?:nummer|nr\.?|numéro|num\.?|n°|número|núm\.?|第|#)\s*(\d{1,3})(?:个|条)?"
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


def _weekdays(names: Sequence[str]) -> dict[str, str]:
    english = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return dict(zip(names, english, strict=True))


def _date_words(
    weekdays: dict[str, str],
    words: Sequence[tuple[str, str]],
    *,
    next_before: str,
    next_after: str = "",
    on: str = "",
    by: str = "",
    next_week_before: str = "",
    by_after: str = "",
    spaced: bool = True,
) -> list[tuple[re.Pattern[str], Replacement]]:
    """Date phrases of a language in English: its fixed words, then "next <weekday>", "on
    <weekday>", "by <weekday>" and plain weekdays. Chinese (not `spaced`) has no word edges."""
    days = "|".join(sorted(weekdays, key=len, reverse=True))
    before, after = (r"(?<!\w)", r"(?!\w)") if spaced else ("", "")
    rules: list[tuple[re.Pattern[str], Replacement]] = []

    def named(lead: str) -> Callable[[re.Match[str]], str]:
        return lambda found: f" {lead}{weekdays[found['day'].casefold()]} "

    def next_week(found: re.Match[str]) -> str:
        return f" {weekdays[found['day'].casefold()]} next week "

    on_ = rf"(?:{on}\s+)?" if on else ""
    gap = r"\s+" if spaced else r"\s*"
    if next_after:
        rules.append((_c(rf"{before}{on_}(?P<day>{days}){gap}{next_after}{after}"), named("next ")))
    if next_week_before:  # "下周五": Friday of next week, not the coming Friday
        rules.append((_c(rf"{before}{next_week_before}{gap}(?P<day>{days}){after}"), next_week))
    rules.append((_c(rf"{before}{on_}{next_before}{gap}(?P<day>{days}){after}"), named("next ")))
    if by_after:  # "周五前": before Friday
        rules.append((_c(rf"(?P<day>{days}){by_after}"), named("by ")))
    if by:
        rules.append((_c(rf"{before}{by}{gap}(?P<day>{days}){after}"), named("by ")))
    if on:
        rules.append((_c(rf"{before}{on}{gap}(?P<day>{days}){after}"), named("on ")))
    rules.append((_c(rf"{before}(?P<day>{days}){after}"), named("")))
    # After the weekdays: "下周" (next week) begins "下周五" (next Friday).
    rules += [(_c(rf"{before}{phrase}{after}"), f" {english} ") for phrase, english in words]
    return rules


def _level_words(
    pairs: Sequence[tuple[str, str]], *, spaced: bool = True
) -> list[tuple[re.Pattern[str], Replacement]]:
    before, after = (r"(?<!\w)", r"(?!\w)") if spaced else ("", "")
    return [(_c(rf"{before}{phrase}{after}"), f" {english} ") for phrase, english in pairs]


# --- German ---------------------------------------------------------------------------------------

_DE_LEVEL = r"(?P<l>hohe|hoher|hoch|wichtig|dringend|niedrige|niedriger|niedrig|mittlere|mittel|normale|normal)"
_DE_DONE = r"(?:erledigt|fertig|abgeschlossen|gemacht|erledigen)"
_DE_DELETE = r"(?:lösche|lösch|loesche|loesch|entferne|entfern|streiche|streich)"
_DE_LIST = r"(?:liste|aufgabenliste|to-?do-?liste)"
GERMAN = _Language(
    asking=_ListWords(
        words=_word_set("zeige zeig mir meine meinen die alle was ist sind noch welche gib steht an zu tun "
            "muss ich habe machen bitte gibt es liste aufgabe heute da schon"),
        subjects=_word_set("aufgaben todos to-dos aufgabenliste offen offenen offene ausstehend ausstehenden "
            "ausstehende unerledigt unerledigten unerledigte erledigt erledigten erledigte "
            "abgeschlossen abgeschlossenen abgeschlossene fertig fertigen überfällig "
            "überfälligen überfällige tun liste"),
        pending=_word_set("offen offenen offene ausstehend ausstehenden ausstehende unerledigt unerledigten "
            "unerledigte noch tun"),
        done=_word_set("erledigt erledigten erledigte abgeschlossen abgeschlossenen abgeschlossene fertig "
            "fertigen"),
        overdue=_word_set("überfällig überfälligen überfällige"),
    ),
    rules=(
        (_c(r"was\s+(?:steht|ist)\s+(?P<d>heute|morgen|übermorgen|am\s+\w+)\s+(?:an|fällig)$"), "what's due {d}"),
        (_c(r"was\s+(?:steht|ist)\s+(?:an|fällig)\s+(?P<d>heute|morgen|übermorgen|am\s+\w+)$"), "what's due {d}"),
        # several tasks: "füge diese hinzu: a, b und c"
        (_c(r"(?:füg(?:e)?|fueg(?:e)?)\s+(?:(?:diese|folgende|\d+|zwei|drei|vier|fünf)\s+)?(?:aufgaben|dinge|punkte)?\s*(?:hinzu)?\s*:\s*(?P<x>.+)$"), "add these: {x}"),
        (_c(r"(?:diese|folgende|\d+|zwei|drei|vier|fünf)\s+(?:aufgaben|dinge|punkte)\s*(?:hinzufügen)?\s*:\s*(?P<x>.+)$"), "add these: {x}"),
        # descriptions
        (_c(r"(?:füg(?:e)?|schreib(?:e)?)\s+(?:eine\s+|die\s+)?(?:notiz|beschreibung|bemerkung)\s+(?:zu|für|bei)\s+(?P<r>.+?)\s*:\s*(?P<n>.+?)(?:\s+hinzu)?$"), "add a note to {r}: {n}"),
        (_c(r"(?:ändere|änder|aendere|setze|setz)\s+(?:die\s+)?(?:notiz|beschreibung|bemerkung)\s+(?:von|für|bei)\s+(?P<r>.+?)\s+(?:auf|zu|in)\s*:?\s+(?P<n>.+)$"), "change the description of {r} to {n}"),
        # priority
        (_c(r"(?:setze|setz|ändere|änder|mache|mach|stelle|stell)\s+(?:die\s+)?priorität\s+(?:von|für)\s+(?P<r>.+?)\s+auf\s+" + _DE_LEVEL + r"$"), "make {r} {l} priority"),
        (_c(r"(?:setze|setz|mache|mach|markiere|markier|stelle|stell)\s+(?P<r>.+?)\s+(?:auf\s+|als\s+)?" + _DE_LEVEL + r"(?:\s+priorität)?$"), "make {r} {l} priority"),
        # due date
        (_c(r"(?:verschiebe|verschieb|verlege|verleg)\s+(?P<r>.+?)\s+(?:auf|zu|nach)\s+(?P<d>.+)$"), "move {r} to {d}"),
        # rename
        (_c(r"(?:benenne|benenn)\s+(?P<r>.+?)\s+(?:in|zu)\s+(?P<y>.+?)\s+um$"), "rename {r} to {y}"),
        (_c(r"(?:ändere|änder|aendere)\s+(?P<r>.+?)\s+(?:in|zu)\s+(?P<y>.+)$"), "rename {r} to {y}"),
        # complete
        (_c(r"(?:markiere|markier|setze|setz)\s+(?P<r>.+?)\s+(?:als\s+)?" + _DE_DONE + r"$"), "mark {r} done"),
        (_c(r"(?:erledige|erledig|hake|hak)\s+(?P<r>.+?)(?:\s+ab)?$"), "complete {r}"),
        (_c(r"(?:schließe|schliesse|schließ)\s+(?P<r>.+?)\s+ab$"), "complete {r}"),
        (_c(r"ich\s+habe\s+(?P<r>.+?)\s+" + _DE_DONE + r"$"), "complete {r}"),
        (_c(r"(?P<r>.+?)\s+(?:ist|sind|wurde|wurden)\s+(?:jetzt\s+|schon\s+|nun\s+)?" + _DE_DONE + r"$"), "complete {r}"),
        (_c(r"(?:erledigt|fertig)\s*:\s*(?P<r>.+)$"), "complete {r}"),
        # delete
        (_c(_DE_DELETE + r"\s+(?P<r>.+?)(?:\s+(?:von|aus)\s+(?:der|meiner)\s+" + _DE_LIST + r")?$"), "delete {r}"),
        (_c(r"(?P<r>.+?)\s+(?:löschen|loeschen|entfernen|streichen)$"), "delete {r}"),
        # add
        (_c(r"(?:neue\s+aufgabe|aufgabe|todo|erinnerung)(?:\s+hinzufügen|\s+anlegen)?\s*:\s*(?P<x>.+)$"), "add task: {x}"),
        (_c(r"(?:füg(?:e)?|fueg(?:e)?)\s+(?P<x>.+?)\s+(?:(?:zu\s+)?(?:meiner|der|meinen|den)\s+(?:" + _DE_LIST + r"|aufgaben)\s+)?hinzu$"), "add {x}"),
        (_c(r"(?:erstelle|erstell|lege|leg)\s+(?:eine\s+)?(?:neue\s+)?aufgabe\s*:?\s*(?P<x>.+?)(?:\s+an)?$"), "add {x}"),
        (_c(r"(?:neue\s+aufgabe|notiere|notier|hinzufügen|hinzufuegen)\s*:?\s+(?P<x>.+)$"), "add {x}"),
        (_c(r"(?P<x>.+?)\s+(?:hinzufügen|hinzufuegen|notieren|aufschreiben)$"), "add {x}"),
        (_c(r"erinnere\s+mich(?:\s+daran)?,?\s+(?:dass\s+ich\s+|an\s+)?(?P<x>.+?)(?:\s+(?:muss|soll|zu))?$"), "remind me to {x}"),
        (_c(r"ich\s+(?:muss|sollte|soll)\s+(?:noch\s+)?(?P<x>.+)$"), "I need to {x}"),
    ),
    words=(
        *_date_words(
            _weekdays(("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")),
            (
                ("übermorgen", "day after tomorrow"), ("uebermorgen", "day after tomorrow"),
                ("heute abend", "tonight"), ("heute", "today"), ("morgen", "tomorrow"),
                (r"nächste\s+woche", "next week"), (r"naechste\s+woche", "next week"),
                (r"in\s+(\d+)\s+tagen", r"in \1 days"), (r"in\s+(\d+)\s+wochen", r"in \1 weeks"),
                (r"in\s+einer\s+woche", "in a week"),
            ),
            next_before=r"(?:nächsten|nächster|naechsten|kommenden)", on=r"(?:am)", by=r"(?:bis(?:\s+zum|\s+am)?)",
        ),
        *_level_words(
            (
                (r"(?:mit\s+)?(?:hoher|hohe)\s+priorität", "high priority"),
                (r"(?:mit\s+)?(?:niedriger|niedrige)\s+priorität", "low priority"),
                (r"(?:ist\s+)?(?:dringend|wichtig)", "high priority"),
            )
        ),
        (_c(r"\s+mit\s+(?:der\s+|einer\s+)?(?:notiz|beschreibung|bemerkung)\s*:?\s*"), " with the note "),
        (_c(r"[,;]?\s*(?:notiz|beschreibung|bemerkung)\s*:\s*"), ", note: "),
    ),
    references={
        "es": "it", "sie": "it", "das": "it", "die": "it", "diese": "it", "dieses": "it",
        "diese aufgabe": "it", "die aufgabe": "it",
        "die erste": "first", "erste": "first", "die zweite": "second", "zweite": "second",
        "die dritte": "third", "dritte": "third", "die vierte": "fourth", "vierte": "fourth",
        "die fünfte": "fifth", "fünfte": "fifth", "die letzte": "last", "letzte": "last",
        "alle": "everything", "alles": "everything", "alle aufgaben": "everything",
        "alle meine aufgaben": "everything", "meine aufgaben": "everything",
        "sämtliche aufgaben": "everything", "die ganze liste": "everything",
        "die liste": "everything", "meine liste": "everything",
        "alle erledigten aufgaben": "everything", "alle erledigten": "everything",
    },
    levels={
        "hohe": "high", "hoher": "high", "hoch": "high", "wichtig": "high", "dringend": "high",
        "niedrige": "low", "niedriger": "low", "niedrig": "low",
        "mittlere": "medium", "mittel": "medium", "normale": "medium", "normal": "medium",
    },
)  # fmt: skip


# --- French ---------------------------------------------------------------------------------------

_FR_LEVEL = (
    r"(?P<l>haute|élevée|elevee|urgente?|importante?|prioritaire|basse|faible|moyenne|normale)"
)
_FR_DONE = r"(?:fait|faite|faits|faites|terminée?s?|terminee?s?|finie?s?|complétée?s?|accomplie?s?)"
_FR_REF = r"(?:la\s+tâche\s+|la\s+tache\s+|le\s+|la\s+|les\s+)?"
FRENCH = _Language(
    asking=_ListWords(
        words=_word_set("montre montre-moi affiche affiche-moi liste lister moi mes les toutes tous la le "
            "quelles quels sont qu'est-ce qu'est ce qui que reste il me à a faire voir voici "
            "donne donne-moi s'il te plaît plait vous ma est y des encore qu est-ce"),
        subjects=_word_set("tâches tâche taches tache todo todos liste attente cours restantes restant reste "
            "terminées terminés finies faites complétées accomplies retard faire"),
        pending=_word_set("attente cours restantes restant reste encore faire"),
        done=_word_set("terminées terminés finies faites complétées accomplies"),
        overdue=frozenset(["retard"]),
    ),
    rules=(
        (_c(r"(?:ajoute|ajouter|ajoutez|rajoute)\s+(?:ces|les\s+suivantes|\d+|deux|trois|quatre|cinq)\s*(?:tâches|taches|choses|éléments)?\s*:\s*(?P<x>.+)$"), "add these: {x}"),
        (_c(r"(?:ajoute|ajouter|ajoutez|mets|écris)\s+(?:une\s+|la\s+)?(?:note|description)\s+(?:à|a|sur|pour)\s+" + _FR_REF + r"(?P<r>.+?)\s*:\s*(?P<n>.+)$"), "add a note to {r}: {n}"),
        (_c(r"(?:change|changer|modifie|modifier|mets)\s+(?:la\s+)?(?:description|note)\s+(?:de|du|des|pour)\s+" + _FR_REF + r"(?P<r>.+?)\s+(?:en|à|a|par)\s*:?\s+(?P<n>.+)$"), "change the description of {r} to {n}"),
        (_c(r"(?:mets|mettre|passe|passer|change)\s+(?:la\s+)?(?:priorité\s+(?:de|du)\s+)?" + _FR_REF + r"(?P<r>.+?)\s+(?:en|à|a)\s+(?:priorité\s+)?" + _FR_LEVEL + r"(?:\s+priorité)?$"), "make {r} {l} priority"),
        (_c(r"(?:rends|rendre|marque)\s+" + _FR_REF + r"(?P<r>.+?)\s+(?:comme\s+)?" + _FR_LEVEL + r"$"), "make {r} {l} priority"),
        (_c(r"(?:déplace|deplace|reporte|repousse|décale|decale)\s+" + _FR_REF + r"(?P<r>.+?)\s+(?:à|a|au|pour|jusqu'à)\s+(?P<d>.+)$"), "move {r} to {d}"),
        (_c(r"(?:renomme|renommer|renommez)\s+" + _FR_REF + r"(?P<r>.+?)\s+(?:en|à|a|par)\s+(?P<y>.+)$"), "rename {r} to {y}"),
        (_c(r"(?:marque|marquer|coche|cocher)\s+" + _FR_REF + r"(?P<r>.+?)\s+(?:comme\s+)?" + _FR_DONE + r"$"), "mark {r} done"),
        (_c(r"(?:termine|terminer|terminez|finis|finir|complète|complete|coche|cocher)\s+" + _FR_REF + r"(?P<r>.+)$"), "complete {r}"),
        (_c(r"j(?:'|\s)?ai\s+(?:fini|terminé|termine|fait)\s+" + _FR_REF + r"(?P<r>.+)$"), "complete {r}"),
        (_c(r"qu(?:'|\s)?est(?:-|\s)?ce\s+(?:qui\s+est\s+prévu|que\s+j'ai|que\s+j\s+ai)\s+(?:pour\s+)?(?P<d>aujourd'hui|demain|après-demain|\w+di)$"), "what's due {d}"),
        (_c(r"(?P<r>.+?)\s+(?:est|sont)\s+(?:maintenant\s+|déjà\s+)?" + _FR_DONE + r"$"), "complete {r}"),
        (_c(r"(?:supprime|supprimer|supprimez|efface|effacer|enlève|enleve|enlever|retire|retirer|annule|annuler)[\s-]+(?:moi\s+)?(?P<r>.+?)(?:\s+de\s+(?:ma|la)\s+liste)?$"), "delete {r}"),
        (_c(r"(?:nouvelle\s+tâche|nouvelle\s+tache|tâche|tache|à\s+faire)\s*:\s*(?P<x>.+)$"), "add task: {x}"),
        (_c(r"(?:ajoute|ajouter|ajoutez|rajoute|crée|créer|cree|creer|note|noter|nouvelle\s+tâche|nouvelle\s+tache)\s+(?:une\s+(?:nouvelle\s+)?(?:tâche|tache)\s*:?\s*)?(?:à\s+ma\s+liste\s*:?\s*)?(?P<x>.+?)(?:\s+à\s+(?:ma|la)\s+liste)?$"), "add {x}"),
        (_c(r"(?:rappelle|rappelle-moi|rappelez-moi)\s+(?:moi\s+)?(?:de\s+|d')(?P<x>.+)$"), "remind me to {x}"),
        (_c(r"je\s+(?:dois|devrais)\s+(?P<x>.+)$"), "I need to {x}"),
    ),
    words=(
        *_date_words(
            _weekdays(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")),
            (
                ("après-demain", "day after tomorrow"), ("apres-demain", "day after tomorrow"),
                ("aujourd'hui", "today"), ("ce soir", "tonight"), ("demain", "tomorrow"),
                (r"la\s+semaine\s+prochaine", "next week"), (r"semaine\s+prochaine", "next week"),
                (r"dans\s+(\d+)\s+jours", r"in \1 days"), (r"dans\s+(\d+)\s+semaines", r"in \1 weeks"),
            ),
            next_before=r"(?:ce)", next_after=r"(?:prochain)", on="", by=r"(?:avant|d'ici)",
        ),
        *_level_words(
            (
                (r"(?:en\s+|avec\s+une\s+)?(?:priorité\s+(?:haute|élevée)|haute\s+priorité)", "high priority"),
                (r"(?:en\s+|avec\s+une\s+)?(?:priorité\s+basse|basse\s+priorité)", "low priority"),
                (r"(?:c'est\s+)?(?:urgent|urgente|important|importante)", "high priority"),
            )
        ),
        (_c(r"\s+avec\s+(?:la\s+|une\s+)?(?:note|description|remarque)\s*:?\s*"), " with the note "),
        (_c(r"[,;]?\s*(?:note|description|remarque)\s*:\s*"), ", note: "),
    ),
    references={
        "la": "it", "le": "it", "-la": "it", "-le": "it", "ça": "it", "ca": "it", "cela": "it",
        "cette tâche": "it", "cette tache": "it", "celle-ci": "it", "celle-là": "it",
        "la première": "first", "première": "first", "le premier": "first",
        "la deuxième": "second", "deuxième": "second", "la seconde": "second", "le deuxième": "second",
        "la troisième": "third", "troisième": "third", "le troisième": "third",
        "la quatrième": "fourth", "la cinquième": "fifth",
        "la dernière": "last", "dernière": "last", "le dernier": "last",
        "tout": "everything", "toutes": "everything", "tous": "everything",
        "toutes les tâches": "everything", "toutes mes tâches": "everything",
        "toutes les taches": "everything", "toutes mes taches": "everything",
        "tout ça": "everything", "ma liste": "everything", "la liste": "everything",
        "les tâches": "everything", "mes tâches": "everything",
    },
    levels={
        "haute": "high", "élevée": "high", "elevee": "high", "urgent": "high", "urgente": "high",
        "important": "high", "importante": "high", "prioritaire": "high",
        "basse": "low", "faible": "low", "moyenne": "medium", "normale": "medium",
    },
)  # fmt: skip


# --- Spanish --------------------------------------------------------------------------------------

_ES_LEVEL = r"(?P<l>alta|urgente|importante|baja|media|normal)"
_ES_DONE = r"(?:hecha|hecho|hechas|completada|completado|completadas|terminada|terminado|lista|listo|finalizada|finalizado)"
_ES_REF = r"(?:la\s+tarea\s+|la\s+|el\s+|lo\s+|las\s+)?"
SPANISH = _Language(
    asking=_ListWords(
        words=_word_set("muestra muéstrame muestrame enseña enséñame ver mostrar lista listar mis las me "
            "todas cuáles cuales son qué que tengo me queda quedan por hacer dame hay de "
            "mi por favor está están ya"),
        subjects=_word_set("tareas tarea pendientes pendiente lista completadas terminadas hechas "
            "finalizadas atrasadas vencidas hacer quedan queda"),
        pending=_word_set("pendientes pendiente hacer quedan queda"),
        done=_word_set("completadas terminadas hechas finalizadas"),
        overdue=_word_set("atrasadas vencidas"),
    ),
    rules=(
        (_c(r"(?:añade|añadir|agrega|agregar|anota|anotar)\s+(?:estas|estos|las\s+siguientes|\d+|dos|tres|cuatro|cinco)\s*(?:tareas|cosas)?\s*:\s*(?P<x>.+)$"), "add these: {x}"),
        (_c(r"(?:añade|agrega|pon)\s+(?:una\s+|la\s+)?(?:nota|descripción|descripcion)\s+(?:a|en|para)\s+" + _ES_REF + r"(?P<r>.+?)\s*:\s*(?P<n>.+)$"), "add a note to {r}: {n}"),
        (_c(r"(?:cambia|cambiar|modifica|modificar|pon)\s+(?:la\s+)?(?:descripción|descripcion|nota)\s+(?:de|del|para)\s+" + _ES_REF + r"(?P<r>.+?)\s+(?:a|por|como)\s*:?\s+(?P<n>.+)$"), "change the description of {r} to {n}"),
        (_c(r"(?:pon|poner|cambia|cambiar|marca|marcar)\s+(?:la\s+prioridad\s+(?:de|del)\s+)?" + _ES_REF + r"(?P<r>.+?)\s+(?:en|a|como|con)\s+(?:prioridad\s+)?" + _ES_LEVEL + r"(?:\s+prioridad)?$"), "make {r} {l} priority"),
        (_c(r"(?:haz|hacer)\s+(?:que\s+)?" + _ES_REF + r"(?P<r>.+?)\s+(?:sea\s+)?(?:de\s+)?(?:prioridad\s+)?" + _ES_LEVEL + r"$"), "make {r} {l} priority"),
        (_c(r"(?:mueve|mover|pasa|pasar|aplaza|aplazar|pospón|pospon|posponer|cambia)\s+" + _ES_REF + r"(?P<r>.+?)\s+(?:a|al|para(?:\s+el)?|hasta(?:\s+el)?)\s+(?P<d>.+)$"), "move {r} to {d}"),
        (_c(r"(?:renombra|renombrar|cambia\s+el\s+nombre\s+de)\s+" + _ES_REF + r"(?P<r>.+?)\s+(?:a|por|como)\s+(?P<y>.+)$"), "rename {r} to {y}"),
        (_c(r"(?:marca|marcar|márcala|marcala|márcalo|marcalo)\s+" + _ES_REF + r"(?P<r>.+?)\s+(?:como\s+)?" + _ES_DONE + r"$"), "mark {r} done"),
        (_c(r"(?:márcala|marcala|márcalo|marcalo)\s+(?:como\s+)?" + _ES_DONE + r"$"), "mark it done"),
        (_c(r"(?:completa|completar|termina|terminar|finaliza|finalizar|tacha|tachar)\s+" + _ES_REF + r"(?P<r>.+)$"), "complete {r}"),
        (_c(r"(?:ya\s+)?(?:terminé|termine|completé|complete|hice|acabé|acabe)\s+" + _ES_REF + r"(?P<r>.+)$"), "complete {r}"),
        (_c(r"(?P<r>.+?)\s+(?:está|esta|están|estan|ya\s+está|ya\s+esta)\s+" + _ES_DONE + r"$"), "complete {r}"),
        (_c(r"(?:bórrala|borrala|bórralo|borralo|elimínala|eliminala|elimínalo|eliminalo|quítala|quitala)$"), "delete it"),
        (_c(r"(?:elimina|eliminar|borra|borrar|quita|quitar|suprime|suprimir|cancela|cancelar)\s+(?P<r>.+?)(?:\s+de\s+(?:mi|la)\s+lista)?$"), "delete {r}"),
        (_c(r"(?:nueva\s+tarea|tarea|pendiente)\s*:\s*(?P<x>.+)$"), "add task: {x}"),
        (_c(r"(?:añade|añadir|agrega|agregar|anota|anotar|crea|crear|apunta|apuntar|nueva\s+tarea)\s+(?:una\s+(?:nueva\s+)?tarea\s*:?\s*)?(?:a\s+mi\s+lista\s*:?\s*)?(?P<x>.+?)(?:\s+a\s+(?:mi|la)\s+lista)?$"), "add {x}"),
        (_c(r"(?:recuérdame|recuerdame)\s+(?:que\s+)?(?P<x>.+)$"), "remind me to {x}"),
        (_c(r"¿?\s*qu[ée]\s+(?:tengo|hay)\s+(?:que\s+hacer\s+)?(?:para\s+)?(?P<d>hoy|mañana|pasado\s+mañana|el\s+\w+)\s*\??$"), "what's due {d}"),
        (_c(r"(?:tengo\s+que|necesito|debo)\s+(?P<x>.+)$"), "I need to {x}"),
    ),
    words=(
        *_date_words(
            _weekdays(("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")),
            (
                (r"pasado\s+mañana", "day after tomorrow"), (r"pasado\s+manana", "day after tomorrow"),
                ("hoy", "today"), (r"esta\s+noche", "tonight"), ("mañana", "tomorrow"), ("manana", "tomorrow"),
                (r"la\s+próxima\s+semana", "next week"), (r"la\s+semana\s+que\s+viene", "next week"),
                (r"próxima\s+semana", "next week"),
                (r"en\s+(\d+)\s+días", r"in \1 days"), (r"en\s+(\d+)\s+semanas", r"in \1 weeks"),
            ),
            next_before=r"(?:el\s+)?(?:próximo|proximo)", next_after=r"(?:que\s+viene|próximo|proximo)",
            on=r"(?:el)", by=r"(?:para\s+el|antes\s+del|hasta\s+el)",
        ),
        *_level_words(
            (
                (r"(?:con\s+)?(?:prioridad\s+alta|alta\s+prioridad)", "high priority"),
                (r"(?:con\s+)?(?:prioridad\s+baja|baja\s+prioridad)", "low priority"),
                (r"(?:es\s+)?(?:urgente|importante)", "high priority"),
            )
        ),
        (_c(r"\s+con\s+(?:la\s+|una\s+)?(?:nota|descripción|descripcion)\s*:?\s*"), " with the note "),
        (_c(r"[,;]?\s*(?:nota|descripción|descripcion)\s*:\s*"), ", note: "),
    ),
    references={
        "la": "it", "lo": "it", "esa": "it", "eso": "it", "esta": "it", "esa tarea": "it",
        "esta tarea": "it", "la tarea": "it",
        "la primera": "first", "primera": "first", "el primero": "first",
        "la segunda": "second", "segunda": "second", "el segundo": "second",
        "la tercera": "third", "tercera": "third", "el tercero": "third",
        "la cuarta": "fourth", "la quinta": "fifth",
        "la última": "last", "última": "last", "la ultima": "last", "el último": "last",
        "todo": "everything", "todas": "everything", "todos": "everything",
        "todas las tareas": "everything", "todas mis tareas": "everything",
        "mi lista": "everything", "la lista": "everything", "las tareas": "everything",
        "mis tareas": "everything", "todo eso": "everything",
    },
    levels={
        "alta": "high", "urgente": "high", "importante": "high", "baja": "low",
        "media": "medium", "normal": "medium",
    },
)  # fmt: skip


# --- Chinese --------------------------------------------------------------------------------------

_ZH_LEVEL = r"(?P<l>高|低|中|普通|紧急|重要)"
_ZH_DONE = r"(?:已完成|完成了|完成|做完了|做完|搞定了|搞定|弄完了|办完了|办好了|结束了)"
_ZH_POLITE = r"(?:请|麻烦|帮我|请帮我|给我)?"
CHINESE = _Language(
    asking=_ListWords(
        words=frozenset("显示列出查看看看给我看我的所有全部的有哪些什么还有吗呢一下请帮列表清单是都"),
        subjects=frozenset("任务待办事项没未完成已做过期逾期"),
        pending=frozenset("没未待"),
        done=frozenset("已"),
        overdue=frozenset("过逾"),
    ),
    rules=(
        (_c(_ZH_POLITE + r"(?:添加|加上|新增|新建|创建|记下)(?:这些|以下|下面|几个|[两二三四五六七八九十\d]+个)(?:任务|事情|待办)?\s*[:：]\s*(?P<x>.+)$"), "add these: {x}"),
        (_c(_ZH_POLITE + r"(?:给|为)(?P<r>.+?)(?:添加|加上|加)(?:备注|描述|说明)\s*[:：]?\s*(?P<n>.+)$"), "add a note to {r}: {n}"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)的(?:备注|描述|说明)(?:改为|改成|设为|设置为)\s*[:：]?\s*(?P<n>.+)$"), "change the description of {r} to {n}"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)(?:设为|设置为|设成|改为|改成|标为|标记为)" + _ZH_LEVEL + r"(?:优先级)?$"), "make {r} {l} priority"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)(?:的截止日期|的日期)?(?:推迟到|延期到|改到|移到|挪到|调到|推到)(?P<d>.+)$"), "move {r} to {d}"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)(?:改名为|改名成|重命名为|重命名成|改成|改为)(?P<y>.+)$"), "rename {r} to {y}"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)(?:标记为|标为|设为|设置为)(?:已)?完成$"), "mark {r} done"),
        (_c(_ZH_POLITE + r"(?:完成|标记完成|勾掉)(?P<r>.+)$"), "complete {r}"),
        (_c(r"(?:我)?(?:已经)?(?:完成了|做完了|搞定了)(?P<r>.+)$"), "complete {r}"),
        (_c(r"(?P<r>.+?)(?:已经)?" + _ZH_DONE + r"$"), "complete {r}"),
        (_c(_ZH_POLITE + r"把(?P<r>.+?)(?:删除|删掉|删了|去掉|移除)(?:了|吧)?$"), "delete {r}"),
        (_c(_ZH_POLITE + r"(?:删除|删掉|删去|移除|去掉|取消)\s*(?P<r>.+)$"), "delete {r}"),
        (_c(r"(?P<r>全部|所有|所有任务|一切|全部任务)(?:都)?(?:删除|删掉|删了|清空|清除)$"), "delete {r}"),
        (_c(_ZH_POLITE + r"清空(?:我的)?(?:任务|待办)?(?:列表|清单)?$"), "delete everything"),
        (_c(r"(?:新任务|任务|待办)\s*[:：]\s*(?P<x>.+)$"), "add task: {x}"),
        (_c(r"(?P<d>今天|明天|后天)(?:有|要做)?(?:什么|哪些)(?:任务|事|事情)?(?:到期)?[？?]?$"), "what's due {d}"),
        (_c(_ZH_POLITE + r"(?:添加|加上|新增|新建|创建|记下|记一下)(?:一个|一条|个)?(?:新)?(?:任务|待办)?\s*[:：]?\s*(?P<x>.+)$"), "add {x}"),
        # a bare "加" only before what names a task: "加油" (cheer up) adds nothing
        (_c(_ZH_POLITE + r"加(?:一个|一条|个)(?:新)?(?:任务|待办)?\s*[:：]?\s*(?P<x>.+)$"), "add {x}"),
        (_c(_ZH_POLITE + r"加(?:新)?(?:任务|待办)\s*[:：]?\s*(?P<x>.+)$"), "add {x}"),
        (_c(_ZH_POLITE + r"提醒我\s*(?P<x>.+)$"), "remind me to {x}"),
        (_c(r"我(?:需要|得|要)\s*(?P<x>.+)$"), "I need to {x}"),
    ),
    words=(
        *_date_words(
            _weekdays(("周一", "周二", "周三", "周四", "周五", "周六", "周日")),
            (
                ("后天", "day after tomorrow"), ("今天", "today"), ("今晚", "tonight"),
                ("明天", "tomorrow"), ("下周", "next week"), ("下星期", "next week"),
            ),
            next_before=r"(?:这|这个)", next_week_before="下", by="(?:在|到)", by_after="(?:之前|以前|前)", spaced=False,
        ),
        *_date_words(
            _weekdays(("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")),
            (), next_before=r"(?:这|这个)", next_week_before="下", by="(?:在|到)", by_after="(?:之前|以前|前)", spaced=False,
        ),
        *_level_words(
            (
                (r"(?:高优先级|优先级高|紧急|重要)", "high priority"),
                (r"(?:低优先级|优先级低)", "low priority"),
            ),
            spaced=False,
        ),
        (_c(r"[，,]?\s*(?:备注|描述|说明)\s*[:：]\s*"), ", note: "),
    ),
    references={
        "它": "it", "这个": "it", "那个": "it", "这个任务": "it", "那个任务": "it", "这条": "it",
        "第一个": "first", "第二个": "second", "第三个": "third", "第四个": "fourth",
        "第五个": "fifth", "最后一个": "last", "最后那个": "last",
        "所有任务": "everything", "所有": "everything", "全部": "everything",
        "全部任务": "everything", "一切": "everything", "所有的任务": "everything",
        "我的任务": "everything", "所有待办": "everything",
    },
    levels={"高": "high", "紧急": "high", "重要": "high", "低": "low", "中": "medium", "普通": "medium"},
)  # fmt: skip

LANGUAGES = (GERMAN, FRENCH, SPANISH, CHINESE)
