"""The gateway's keep-alive client against small real HTTP servers on loopback: reuse,
a connection the server closed meanwhile, chunked bodies, and servers that do not
answer."""

import asyncio

import pytest
from labdeck.service.replica_client import ReplicaClient, ReplicaError


async def serve(answer, close_after_each: bool = False):
    """A server on a free port; answer(request_head) is the raw response. Returns the
    server and the list of connections it accepted."""
    accepted = []

    async def handle(reader, writer):
        accepted.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                writer.write(answer(head))
                await writer.drain()
                if close_after_each:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


def plain(body: bytes = b'{"ok": 1}') -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


def test_a_connection_is_kept_and_used_again():
    async def run():
        server, port, accepted = await serve(lambda head: plain())
        client = ReplicaClient()
        for _ in range(3):
            response = await client.request(port, "POST", "invocations", {"A": "b"}, b"{}", 5)
            assert (response.status, response.body) == (200, b'{"ok": 1}')
            assert response.header("content-type") == "application/json"
        assert len(accepted) == 1
        client.close()
        server.close()

    asyncio.run(run())


def test_a_connection_the_server_closed_is_replaced_without_an_error():
    async def run():
        server, port, accepted = await serve(lambda head: plain(), close_after_each=True)
        client = ReplicaClient()
        for _ in range(3):
            response = await client.request(port, "POST", "invocations", {}, b"{}", 5)
            assert response.status == 200
        assert len(accepted) == 3
        server.close()

    asyncio.run(run())


def test_chunked_bodies_and_headers_are_read():
    chunked = (
        b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n"
        b"X-Model-Latency-Ms: 1.5\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    )

    async def run():
        server, port, _ = await serve(lambda head: chunked)
        client = ReplicaClient()
        response = await client.request(port, "GET", "ping", {}, b"", 5)
        assert (response.status, response.body) == (500, b"abcdefg")
        assert response.header("x-model-latency-ms") == "1.5"
        server.close()

    asyncio.run(run())


def test_a_server_that_does_not_answer_is_an_error():
    async def run():
        silent, port, _ = await serve(lambda head: b"")
        client = ReplicaClient()
        with pytest.raises(ReplicaError):
            await client.request(port, "POST", "invocations", {}, b"{}", 0.5)
        silent.close()
        await silent.wait_closed()
        with pytest.raises(ReplicaError):  # nobody listens any more
            await client.request(port, "POST", "invocations", {}, b"{}", 0.5)

    asyncio.run(run())
