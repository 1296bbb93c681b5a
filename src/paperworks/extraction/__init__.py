"""Extraction: documents in (PDF, XLSX, CSV), tables out, shaped by a workspace's configurations."""
