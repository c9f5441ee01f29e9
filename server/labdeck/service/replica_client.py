"""Keep-alive HTTP/1.1 to the model servers on 127.0.0.1: the gateway's hot path.

A general client (tornado's opens a connection per request; httpx's pool costs more
than the model takes for small models) spends more per request than the model servers
answer in. This one keeps idle connections per port and speaks only what a model
server answers: a status line, headers, and a body of Content-Length bytes (or chunks).
"""

import asyncio
import time
from dataclasses import dataclass

# drop a connection idle this long: below the model server's keep-alive (75 s)
IDLE_SECONDS = 60.0
MAX_IDLE_PER_PORT = 32
MAX_HEADER_BYTES = 64 * 1024


class ReplicaError(OSError):
    """No HTTP answer from the model server."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names as the server sent them
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0


class ReplicaClient:
    def __init__(self):
        self._idle: dict[int, list[_Connection]] = {}

    async def request(
        self,
        port: int,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float,
    ) -> Response:
        """One request; on a kept connection the server had closed meanwhile (nothing
        of an answer read), once more on a new one."""
        connection = self._take(port)
        if connection is not None:
            try:
                return await self._exchange(connection, port, method, path, headers, body, timeout)
            except _Stale:
                connection.writer.close()
        connection = await self._connect(port, timeout)
        try:
            return await self._exchange(connection, port, method, path, headers, body, timeout)
        except _Stale as e:
            connection.writer.close()
            raise ReplicaError("the model server closed the connection without answering") from e

    def _take(self, port: int) -> _Connection | None:
        idle = self._idle.get(port)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            connection.writer.close()
        return None

    async def _connect(self, port: int, timeout: float) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout
            )
        except (OSError, TimeoutError) as e:
            raise ReplicaError(f"cannot connect to the model server: {e}") from e
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        port: int,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float,
    ) -> Response:
        lines = [f"{method} /{path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            connection.writer.write(head + body)
            response = await asyncio.wait_for(self._read(connection.reader), timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            if isinstance(e, asyncio.IncompleteReadError) and e.partial:
                connection.writer.close()
                raise ReplicaError("the model server's answer was cut short") from e
            raise _Stale() from e
        except (TimeoutError, ValueError, OSError) as e:
            connection.writer.close()
            raise ReplicaError(f"no answer from the model server: {e or 'timed out'}") from e
        if (response.header("Connection") or "").lower() == "close":
            connection.writer.close()
        else:
            connection.idle_since = time.monotonic()
            idle = self._idle.setdefault(port, [])
            if len(idle) < MAX_IDLE_PER_PORT:
                idle.append(connection)
            else:
                connection.writer.close()
        return response

    async def _read(self, reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise ValueError("headers too large")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        response = Response(status, headers, b"")
        length = response.header("Content-Length")
        if length is not None:
            response.body = await reader.readexactly(int(length))
        elif (response.header("Transfer-Encoding") or "").lower() == "chunked":
            response.body = await _read_chunks(reader)
        elif status not in (204, 304) and status >= 200:
            # neither: the body ends with the connection
            response.body = await reader.read()
            response.headers["Connection"] = "close"
        return response

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.writer.close()
        self._idle.clear()


class _Stale(Exception):
    """A kept connection the server had closed: nothing of an answer came."""


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the last chunk's end (no trailers)
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
