"""Files' errors: each knows its status and stable code."""

from paperworks.kit.errors import AppError, NotFound, PermissionDenied


class FileNotFound(NotFound):
    code = "file.not_found"
    title = "File not found"


class FileEmpty(AppError):
    status_code = 422
    code = "file.empty"
    title = "Empty file"


class FileTooLarge(AppError):
    status_code = 413
    code = "file.too_large"
    title = "File too large"


class UnsupportedFileType(AppError):
    status_code = 415
    code = "file.unsupported_type"
    title = "Unsupported file type"


class ExtensionMismatch(UnsupportedFileType):
    code = "file.extension_mismatch"
    title = "The file name's extension does not match its content"


class RangeNotSatisfiable(AppError):
    status_code = 416
    code = "file.range_not_satisfiable"
    title = "Range not satisfiable"


class InvalidDownloadSignature(PermissionDenied):
    code = "download.invalid_signature"
    title = "Invalid or expired download link"
