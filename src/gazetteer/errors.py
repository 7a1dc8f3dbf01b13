"""The exception tree. Services raise these; the web layer maps each to one HTTP status once."""

from __future__ import annotations

__all__ = [
    "GazetteerError",
    "InvalidRequest",
    "NotFound",
    "Conflict",
    "PermissionDenied",
    "Unauthenticated",
]


class GazetteerError(Exception):
    """Base of every error Gazetteer raises on purpose; the message is meant for the user."""

    status_code = 500
    error_code = "GAZETTEER-500-000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(GazetteerError):
    status_code = 400
    error_code = "GAZETTEER-400-000"


class Unauthenticated(GazetteerError):
    status_code = 401
    error_code = "GAZETTEER-401-000"


class PermissionDenied(GazetteerError):
    status_code = 403
    error_code = "GAZETTEER-403-000"


class NotFound(GazetteerError):
    status_code = 404
    error_code = "ATLAS-404-00-009"


class Conflict(GazetteerError):
    status_code = 409
    error_code = "GAZETTEER-409-000"
