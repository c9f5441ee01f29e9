"""Errors: domain refusals raised by the managers, and their one mapping to HTTP.

Managers know nothing of HTTP: they raise a `LabdeckError` subclass with a machine code
and a sentence the person asking can act on. `http_status` (used by the API handlers'
error writer) is the one place that says which status each kind of refusal gets.
"""

from tornado import web


class LabdeckError(Exception):
    """A refusal: `code` for programs, `message` for people."""

    default_code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class Invalid(LabdeckError):
    """The request cannot be accepted as it is."""

    default_code = "invalid_request"


class Refused(LabdeckError):
    """Policy says no: a quota or a limit."""

    default_code = "forbidden"


class NotFound(LabdeckError):
    """No such thing, or not the caller's to see (which looks the same)."""

    default_code = "not_found"


class Conflict(LabdeckError):
    """Not now: the thing is not in a state that allows it."""

    default_code = "conflict"


class Busy(LabdeckError):
    """Too much at once: try again shortly (`retry_after` seconds)."""

    default_code = "too_many_requests"
    retry_after = 1


class Unavailable(LabdeckError):
    """Not serving now (starting, stopping): try again later."""

    default_code = "not_in_service"


class Upstream(LabdeckError):
    """A process labdeck runs (a Spark driver, a model server) failed to answer."""

    default_code = "bad_gateway"


HTTP_STATUS: dict[type[LabdeckError], int] = {
    Invalid: 400,
    Refused: 403,
    NotFound: 404,
    Conflict: 409,
    Busy: 429,
    Upstream: 502,
    Unavailable: 503,
}


def http_status(error: LabdeckError) -> int:
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 500


class APIError(web.HTTPError):
    """An error a handler reports as `{"error": code, "message": message}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(status, log_message=message)
        self.code = code
        self.message = message


# Codes for plain tornado HTTPErrors (e.g. raised by tornado or jupyterhub internals).
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}
