"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio protocols, one request in
flight per connection, bodies framed by Content-Length or chunked encoding.

httpx spends 1-2 ms of the benchmark's own CPU per request (its pool, anyio, h11). On a 2-core
machine shared with the api that is the bottleneck: at 200 requests/s even `GET /healthz`
queued for seconds. This client spends a few tens of microseconds a request, so the figures
are the api's. It speaks only what uvicorn answers: no TLS, no redirects, no compression."""

import asyncio
import json
from collections import deque
from typing import Any


class Answer:
    """The part of an HTTP response a benchmark reads (named like httpx's)."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answer = self._parse()
        if answer is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def _parse(self) -> Answer | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).split(b"\r\n")
        status = int(head[0].split(b" ", 2)[1])
        length, chunked = 0, False
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        start = end + 4
        if not chunked:
            if len(self.buffer) < start + length:
                return None
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
            return Answer(status, body)
        body_parts: list[bytes] = []
        at = start
        while True:
            line_end = self.buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[at:line_end]).split(b";")[0], 16)
            if len(self.buffer) < line_end + 2 + size + 2:
                return None
            if size == 0:
                del self.buffer[: line_end + 4]
                return Answer(status, b"".join(body_parts))
            body_parts.append(bytes(self.buffer[line_end + 2 : line_end + 2 + size]))
            at = line_end + 2 + size + 2

    async def send(self, request: bytes) -> Answer:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            self.waiter = None


class LoadClient:
    """`await client.post(path, body, headers)`: a free keep-alive connection, or a new one."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.idle: deque[_Connection] = deque()
        self.all: list[_Connection] = []
        fixed = {"host": f"{host}:{port}", **(headers or {})}
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode()

    @classmethod
    def for_url(cls, base_url: str, headers: dict[str, str] | None = None) -> "LoadClient":
        host, _, port = base_url.removeprefix("http://").partition(":")
        return cls(host, int(port), headers)

    async def _connection(self) -> _Connection:
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        self.all.append(protocol)
        return protocol

    async def request(self, method: str, path: str, body: bytes | None = None) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self.fixed
        if body is not None:
            head += b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
        connection = await self._connection()
        answer = await connection.send(head + b"\r\n" + (body or b""))
        if not connection.closed:
            self.idle.append(connection)
        return answer

    async def get(self, path: str) -> Answer:
        return await self.request("GET", path)

    async def post(self, path: str, payload: Any) -> Answer:
        return await self.request("POST", path, json.dumps(payload).encode())

    def close(self) -> None:
        for connection in self.all:
            if connection.transport is not None:
                connection.transport.close()
