"""Paperworks: a self-hostable document-automation backend."""

__version__ = "0.1.0"
