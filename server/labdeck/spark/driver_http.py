"""The driver's small HTTP API on 127.0.0.1: Livy-shaped statements, status, shutdown.

Every request needs `Authorization: token <token>`. Bodies and answers are JSON;
errors are `{"error": "<code>", "message": "<sentence>"}` and never carry a traceback.
The handlers only parse and validate; the `DriverAPI` object they call does the work.
"""

import hmac
import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("labdeck.spark.driver")

MAX_BODY_BYTES = 16 * 1024 * 1024
# Livy's statement kinds (and the older names some clients still send)
KINDS = {
    "pyspark": "pyspark",
    "python": "pyspark",
    "sql": "sql",
    "spark": "spark",
    "scala": "spark",
}


class ApiError(Exception):
    """An error answered to the client as JSON with a 4xx status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class DriverAPI(Protocol):
    """What the HTTP layer needs from the driver."""

    def submit(self, code: str, kind: str) -> dict: ...
    def statements(self, start: int, size: int | None) -> dict: ...
    def statement(self, statement_id: int) -> dict | None: ...
    def cancel(self, statement_id: int) -> bool: ...
    def status(self) -> dict: ...
    def shutdown(self) -> None: ...


class DriverHTTPServer(ThreadingHTTPServer):
    """A threaded server on a random loopback port, bound to one driver and one token."""

    daemon_threads = True

    def __init__(self, api: DriverAPI, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api, self.token = api, token

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        """Log (never print: stderr may be a statement's captured output)."""
        log.warning("error serving %s", client_address, exc_info=True)


class Request:
    """What a view needs from a request: parsed JSON body, query and path parameters."""

    def __init__(self, body: object, query: dict, params: tuple[str, ...]) -> None:
        self.body, self.query, self.params = body, query, params


Reply = tuple[int, dict]


def _submit(api: DriverAPI, request: Request) -> Reply:
    """Queue a statement (201, as Livy)."""
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ApiError(400, "bad-request", 'Send a JSON object with the code as "code".')
    kind = KINDS.get(body.get("kind") or "pyspark")
    if kind is None:
        raise ApiError(
            400, "unsupported-kind", 'This session runs "pyspark", "sql" and "spark" code.'
        )
    return 201, api.submit(body["code"], kind)


def _list(api: DriverAPI, request: Request) -> Reply:
    """List statements; `from` and `size` page like Livy's."""
    try:
        start = int(request.query.get("from", ["0"])[0])
        size = int(request.query["size"][0]) if "size" in request.query else None
    except ValueError:
        raise ApiError(400, "bad-request", '"from" and "size" must be whole numbers.') from None
    if start < 0 or (size is not None and size < 0):
        raise ApiError(400, "bad-request", '"from" and "size" cannot be negative.')
    return 200, api.statements(start, size)


def _get(api: DriverAPI, request: Request) -> Reply:
    """One statement, or 404."""
    statement = api.statement(int(request.params[0]))
    if statement is None:
        raise ApiError(404, "not-found", f"There is no statement {request.params[0]}.")
    return 200, statement


def _cancel(api: DriverAPI, request: Request) -> Reply:
    """Cancel a statement, or 404 if there is none."""
    if not api.cancel(int(request.params[0])):
        raise ApiError(404, "not-found", f"There is no statement {request.params[0]}.")
    return 200, {"msg": "canceled"}  # Livy's spelling


def _status(api: DriverAPI, request: Request) -> Reply:
    """Session status."""
    return 200, api.status()


def _shutdown(api: DriverAPI, request: Request) -> Reply:
    """Acknowledge a shutdown; the handler calls api.shutdown() once this is sent."""
    return 200, {"msg": "shutting down"}


# (method, path pattern, body is JSON, view)
ROUTES: list[tuple[str, str, bool, Callable[[DriverAPI, Request], Reply]]] = [
    ("POST", r"/statements", True, _submit),
    ("GET", r"/statements", False, _list),
    ("GET", r"/statements/(\d+)", False, _get),
    ("POST", r"/statements/(\d+)/cancel", False, _cancel),
    ("GET", r"/status", False, _status),
    ("POST", r"/shutdown", False, _shutdown),
]
_COMPILED = [(m, re.compile(pattern + "/?"), is_json, view) for m, pattern, is_json, view in ROUTES]


class _Handler(BaseHTTPRequestHandler):
    """Parses, authenticates and routes one request; answers JSON."""

    protocol_version = "HTTP/1.1"  # keep-alive: the gateway polls statements often
    # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every kept-alive request
    disable_nagle_algorithm = True
    server_version = "labdeck-spark-driver"
    server: DriverHTTPServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        try:
            raw = self._read_body()
            self._check_token()
            view, request = self._route(method, raw)
            status, payload = view(self.server.api, request)
        except ApiError as error:
            view, status = None, error.status
            payload = {"error": error.code, "message": error.message}
        except Exception:
            log.exception("internal error on %s %s", method, self.path)
            view, status = None, 500
            payload = {"error": "internal", "message": "The Spark driver failed; see its log."}
        self._send_json(status, payload)
        if view is _shutdown:
            self.server.api.shutdown()  # after the answer is out: the process ends soon

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(411, "length-required", "Send the body with a Content-Length.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "bad-request", "Content-Length is not a number.") from None
        if length > MAX_BODY_BYTES or length < 0:
            self.close_connection = True  # the body stays unread: this connection is done
            raise ApiError(413, "too-large", "The request body is too large.")
        return self.rfile.read(length) if length else b""

    def _check_token(self) -> None:
        scheme, _, given = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "token" or not hmac.compare_digest(
            given.strip().encode(), self.server.token.encode()
        ):
            raise ApiError(401, "unauthorized", "This needs the driver's token.")

    def _route(self, method: str, raw: bytes) -> tuple[Callable, Request]:
        url = urlsplit(self.path)
        allowed = []
        for route_method, pattern, is_json, view in _COMPILED:
            match = pattern.fullmatch(url.path)
            if match:
                allowed.append(route_method)
                if route_method == method:
                    body = self._json(raw) if is_json else None
                    return view, Request(body, parse_qs(url.query), match.groups())
        if allowed:
            raise ApiError(405, "method-not-allowed", f"{method} is not allowed here.")
        raise ApiError(404, "not-found", f"Nothing at {url.path}.")

    @staticmethod
    def _json(raw: bytes) -> object:
        try:
            return json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "bad-json", "The request body is not valid JSON.") from None

    def _send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Requests go to the driver log at debug level, never to (captured) stderr."""
        log.debug("%s " + format, self.address_string(), *args)
