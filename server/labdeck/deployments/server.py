"""One replica of a deployment: a model folder served by uvicorn on 127.0.0.1.

Started by the deployment backend through the supervisor, as the owner's account:
``python -m labdeck.deployments.server`` with $LABDECK_MODEL_SERVER (JSON: model_dir,
name, ready_file) and $LABDECK_REPLICA_TOKEN, the bearer token every request must carry
(only the service's gateway knows it). It loads the model first, then binds a free port
and writes the ready file (0600, JSON ``{"port", "pid", "setup_seconds"}``); when the
model cannot be loaded the ready file says why (``{"error": ...}``) and it exits 1.

Routes: SageMaker's ``GET /ping`` and ``POST /invocations`` (the body through input_fn,
predict_fn and output_fn; ``X-Model-Latency-Ms`` says how long those took, so the
gateway can tell model time from its own), and the Open Inference Protocol under
``/v2`` (:mod:`.v2`). The app is raw ASGI: a framework's routing and request objects
would cost more than the model takes for small models, and the gateway is measured
against a bare server.
"""

import hmac
import json
import os
import socket
import sys
import time
import traceback
import zlib
from pathlib import Path

import uvicorn

from .._version import __version__
from . import formats, v2
from .formats import JSON, InputError, ModelLoadError, describe_exception

SPEC_ENV = "LABDECK_MODEL_SERVER"
TOKEN_ENV = "LABDECK_REPLICA_TOKEN"  # noqa: S105 - the variable's name
LATENCY_HEADER = b"x-model-latency-ms"
BINARY_HEADER = b"inference-header-content-length"
MAX_INFLATED_BYTES = 256 * 1024 * 1024
TRACEBACK_LINES = 12
REASON_CHARS = 4000
# longer than the gateway keeps an idle connection, so the server never closes a
# connection the gateway is about to reuse
KEEP_ALIVE_SECONDS = 75
PLATFORMS = {"inference": "python", "sklearn": "sklearn"}


class Reply(Exception):
    """Answer with this status and JSON body (errors, from anywhere in a handler)."""

    def __init__(self, status: int, body: dict, headers: tuple = ()):
        self.status, self.body, self.headers = status, body, headers


UNAUTHORIZED = Reply(
    401,
    {"error": "unauthorized", "message": "This model server needs its bearer token."},
    ((b"www-authenticate", b"Bearer"),),
)


async def _read_body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client went away")
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _respond(send, status: int, body: bytes, content_type: bytes, extra=()) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _inflate(body: bytes, encoding: bytes | None) -> bytes:
    """A body the client compressed (tritonclient's request_compression_algorithm)."""
    if encoding is None or encoding == b"identity":
        return body
    if encoding not in (b"gzip", b"deflate"):
        raise Reply(415, {"error": f"unsupported Content-Encoding {encoding.decode('latin-1')}"})
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or a zlib header
    try:
        inflated = inflater.decompress(body, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise Reply(400, {"error": f"the body is not valid {encoding.decode()}: {exc}"}) from exc
    if inflater.unconsumed_tail:  # a small body that would fill the replica's memory
        raise Reply(413, {"error": f"the body inflates to more than {MAX_INFLATED_BYTES} bytes"})
    return inflated


def _ms(seconds: float) -> bytes:
    return f"{seconds * 1000:.3f}".encode()


class ModelServer:
    """The ASGI app of one replica: auth, then one of a handful of routes."""

    def __init__(self, model: formats.Model, name: str, token: str):
        self.model = model
        self.name = name
        self.authorization = b"Bearer " + token.encode()
        self.routes = {
            "/ping": ("GET", self.ping),
            "/invocations": ("POST", self.invocations),
            "/v2": ("GET", self.server_metadata),
            "/v2/health/live": ("GET", self.live),
            "/v2/health/ready": ("GET", self.live),
        }
        self.metadata = formats.dumps(
            v2.model_metadata(model, name, PLATFORMS.get(model.format, model.format))
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        if not hmac.compare_digest(headers.get(b"authorization", b""), self.authorization):
            await self._error(send, UNAUTHORIZED)
            return
        try:
            handler = self._route(scope["method"], scope["path"])
            await handler(headers, receive, send)
        except Reply as reply:
            await self._error(send, reply)
        except ConnectionResetError:
            return
        except Exception as exc:  # a bug of ours: still JSON, and its traceback in the log
            traceback.print_exc()
            await self._error(send, Reply(500, {"error": describe_exception(exc)}))

    def _route(self, method: str, path: str):
        route = self.routes.get(path)
        if route is None and path.startswith("/v2/models/"):
            route = self._model_route(path[len("/v2/models/") :])
        if route is None:
            raise Reply(404, {"error": f"no route {path}"})
        allowed, handler = route
        if method != allowed:
            raise Reply(405, {"error": f"{path} takes {allowed}"}, ((b"allow", allowed.encode()),))
        return handler

    def _model_route(self, rest: str):
        # {name}[/versions/{version}][/ready | /infer]
        parts = rest.split("/")
        name, parts = parts[0], parts[1:]
        if name != self.name:
            raise Reply(404, {"error": f"unknown model '{name}'; this server has '{self.name}'"})
        if parts[:1] == ["versions"] and len(parts) >= 2:
            if parts[1] != v2.VERSION:
                raise Reply(404, {"error": f"model '{name}' has no version '{parts[1]}'"})
            parts = parts[2:]
        return {
            (): ("GET", self.model_metadata),
            ("ready",): ("GET", self.model_ready),
            ("infer",): ("POST", self.infer),
        }.get(tuple(parts))

    async def _error(self, send, reply: Reply) -> None:
        body = formats.dumps(reply.body)
        await _respond(send, reply.status, body, b"application/json", reply.headers)

    async def _json(self, send, value, status: int = 200) -> None:
        await _respond(send, status, formats.dumps(value), b"application/json")

    # --- SageMaker ---------------------------------------------------------------------

    async def ping(self, headers, receive, send):
        await _respond(send, 200, b"", b"text/plain")

    async def invocations(self, headers, receive, send):
        body = await _read_body(receive)
        content_type = headers.get(b"content-type", b"").decode("latin-1") or JSON
        accept = headers.get(b"accept", b"").decode("latin-1")
        if accept in ("", "*/*"):
            accept = JSON  # as the toolkit: no preference means its default
        started = time.perf_counter()
        try:
            data = self.model.decode(body, content_type)
            prediction = self.model.predict(data)
            out, out_type = self.model.encode(prediction, accept)
        except InputError as exc:
            raise Reply(exc.status, {"error": "bad_input", "message": str(exc)}) from exc
        except Exception as exc:
            traceback.print_exc()
            message = describe_exception(exc)
            raise Reply(500, {"error": "model_error", "message": message}) from exc
        latency = time.perf_counter() - started
        await _respond(
            send, 200, out, out_type.encode("latin-1"), ((LATENCY_HEADER, _ms(latency)),)
        )

    # --- Open Inference Protocol -------------------------------------------------------

    async def live(self, headers, receive, send):
        # the model is loaded before the port is known to anyone: live is ready
        await _respond(send, 200, b'{"live":true,"ready":true}', b"application/json")

    async def server_metadata(self, headers, receive, send):
        metadata = {"name": "labdeck", "version": __version__}
        await self._json(send, {**metadata, "extensions": ["binary_tensor_data"]})

    async def model_metadata(self, headers, receive, send):
        await _respond(send, 200, self.metadata, b"application/json")

    async def model_ready(self, headers, receive, send):
        await self._json(send, {"name": self.name, "ready": True})

    async def infer(self, headers, receive, send):
        body = _inflate(await _read_body(receive), headers.get(b"content-encoding"))
        length = headers.get(BINARY_HEADER)
        if length is not None and not length.isdigit():
            raise Reply(400, {"error": "Inference-Header-Content-Length must be a number"})
        started = time.perf_counter()
        try:
            request, arrays = v2.decode_request(body, int(length) if length else None)
            data = next(iter(arrays.values())) if len(arrays) == 1 else arrays
            try:
                prediction = self.model.predict(data)
            except InputError as exc:
                raise v2.ProtocolError(str(exc), exc.status) from exc
            except Exception as exc:
                traceback.print_exc()
                raise Reply(500, {"error": describe_exception(exc)}) from exc
            out, json_length = v2.encode_response(request, prediction, self.name)
        except v2.ProtocolError as exc:
            raise Reply(exc.status, {"error": str(exc)}) from exc
        except TypeError as exc:  # an output numpy has no protocol datatype for
            raise Reply(500, {"error": describe_exception(exc)}) from exc
        extra = [(LATENCY_HEADER, _ms(time.perf_counter() - started))]
        if json_length is None:
            await _respond(send, 200, out, b"application/json", extra)
        else:
            extra.append((BINARY_HEADER, str(json_length).encode()))
            await _respond(send, 200, out, b"application/octet-stream", extra)


# --- process --------------------------------------------------------------------------


def write_ready_file(path: Path, payload: dict) -> None:
    """Whole or not at all (temp file + rename): the service polls for it."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(payload, file)
    os.replace(temp, path)


def failure_reason(exc: BaseException) -> str:
    """What the deployment's FAILED state shows: the step, the exception, where it was."""
    cause = exc.__cause__ if isinstance(exc, ModelLoadError) else exc
    if cause is None:
        return str(exc)
    lines = "".join(traceback.format_exception(cause)).rstrip().splitlines()
    head = f"{exc}: {describe_exception(cause)}" if cause is not exc else describe_exception(exc)
    return (head + "\n" + "\n".join(lines[-TRACEBACK_LINES:]))[:REASON_CHARS]


class _Server(uvicorn.Server):
    """uvicorn, writing the ready file once it is accepting on our socket."""

    def __init__(self, config: uvicorn.Config, on_started):
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets=None):
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self.on_started()


def serve(model: formats.Model, name: str, token: str, ready_file: Path, setup: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # loopback only: the service's gateway is the way in
    # inherited by every accepted connection: without it, uvicorn on asyncio's loop sends
    # a response's head and body as two segments and Nagle holds the second back until
    # the client's delayed ACK, 40 ms later (uvloop sets it itself)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        ModelServer(model, name, token),
        lifespan="off",
        ws="none",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=5,
    )
    ready = {"port": port, "pid": os.getpid(), "setup_seconds": round(setup, 3)}
    _Server(config, lambda: write_ready_file(ready_file, ready)).run(sockets=[sock])


def main() -> int:
    # the model's code runs in this process: keep the token out of its environment
    # (and its subprocesses'); it stays readable only to the owner's account, in /proc
    token = os.environ.pop(TOKEN_ENV, "")
    spec = json.loads(os.environ[SPEC_ENV])
    ready_file = Path(spec["ready_file"])
    started = time.perf_counter()
    try:
        if not token:
            raise ModelLoadError(f"no ${TOKEN_ENV}: the server will not answer without one")
        model = formats.load_model(spec["model_dir"])
    except BaseException as exc:
        print("The model could not be loaded:", file=sys.stderr)
        traceback.print_exception(exc)
        reason = failure_reason(exc)
        write_ready_file(ready_file, {"error": reason})
        return 1
    serve(model, spec["name"], token, ready_file, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
