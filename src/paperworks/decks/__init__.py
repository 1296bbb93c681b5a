"""Decks: a prompt becomes a slide plan, the plan a .pptx with pictures and speaker notes."""
