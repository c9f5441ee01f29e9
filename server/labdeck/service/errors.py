"""API errors: a machine code and a sentence the person calling can act on."""

from tornado import web


class APIError(web.HTTPError):
    """An error the API reports as `{"error": code, "message": message}`."""

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
