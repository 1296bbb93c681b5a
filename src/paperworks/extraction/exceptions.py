"""Extraction's errors: each knows its status and stable code."""

from __future__ import annotations

from paperworks.kit.errors import NotFound


class DocumentNotFound(NotFound):
    code = "document.not_found"
    title = "Document not found"


class ConfigurationNotFound(NotFound):
    code = "configuration.not_found"
    title = "Configuration not found"
