"""Extraction's errors: each knows its status and stable code."""

from __future__ import annotations

from paperworks.kit.errors import AppError, Conflict, NotFound


class DocumentNotFound(NotFound):
    code = "document.not_found"
    title = "Document not found"


class ConfigurationNotFound(NotFound):
    code = "configuration.not_found"
    title = "Configuration not found"


class ConfigurationArchived(AppError):
    status_code = 422
    code = "configuration.archived"
    title = "The configuration is archived"


class TableNotFound(NotFound):
    code = "table.not_found"
    title = "Table not found"


class TableNotOfJob(AppError):
    status_code = 422
    code = "export.table_not_of_job"
    title = "A table is not one of the job's"


class JobNotFinished(Conflict):
    code = "export.job_not_succeeded"
    title = "The job has not succeeded"
