"""Decks' errors: each knows its status and stable code."""

from paperworks.kit.errors import AppError, Conflict, NotFound


class DeckNotFound(NotFound):
    code = "deck.not_found"
    title = "Deck not found"


class DeckBusy(Conflict):
    code = "deck.building"
    title = "The deck is being built"


class SlideNotFound(NotFound):
    code = "deck.slide_not_found"
    title = "No such slide"


class UnknownTheme(AppError):
    status_code = 422
    code = "deck.unknown_theme"
    title = "Unknown theme"


class DeckNotPlanned(Conflict):
    code = "deck.not_planned"
    title = "The deck has no plan yet"


class ThemeNotFound(NotFound):
    code = "deck.theme_not_found"
    title = "No such theme"
