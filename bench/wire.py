"""Lean Socket.IO v5 / Engine.IO v4 clients for the load generator, on asyncio (+ uvloop).

Why not python-socketio's client: at 50,000 deliveries/s the generator must spend fewer
microseconds per delivered message than the server does, and a general client (threads,
queues, a JSON round trip per packet, a callback per event) costs more than that. This one
speaks the real wire protocol -- an RFC 6455 WebSocket with optional permessage-deflate, or
HTTP long-polling -- and does only what a chat client needs: connect with auth, answer
pings, send events with acks, and hand each ``message`` event's raw bytes to a callback.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import zlib
from collections.abc import Callable

import aiohttp

ENGINE_PATH = "/socket.io/"
MESSAGE_PREFIX = b'42["message",'


class ConnectRefused(Exception):
    """The server answered the Socket.IO CONNECT with an error (bad name, name taken...)."""


class _Acks:
    """Ack ids and the futures waiting on them; shared by both transports."""

    def __init__(self) -> None:
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future] = {}

    def new(self) -> tuple[int, asyncio.Future]:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        return self.next_id, future

    def resolve(self, packet: bytes) -> None:
        """``3<id>[data]`` (after the engine and socket packet types are stripped)."""
        i = 1
        while i < len(packet) and 48 <= packet[i] <= 57:
            i += 1
        future = self.waiting.pop(int(packet[1:i]), None)
        if future is not None and not future.done():
            args = json.loads(packet[i:])
            future.set_result(args[0] if args else None)

    def fail_all(self, exc: Exception) -> None:
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(exc)
        self.waiting.clear()


def event_packet(event: str, data: dict, ack_id: int | None) -> bytes:
    """An Engine.IO message carrying a Socket.IO EVENT: ``42<ack id>["event",{...}]``."""
    body = json.dumps([event, data], separators=(",", ":"))
    return f"42{'' if ack_id is None else ack_id}{body}".encode()


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte client mask, as one big-int operation (no per-byte Python loop)."""
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")
    return masked.to_bytes(n, "little")


class WsClient(asyncio.Protocol):
    """One Socket.IO connection over a raw WebSocket (``transport=websocket`` from the start)."""

    def __init__(self, on_message: Callable[[bytes], None] | None = None, deflate: bool = False):
        self.on_message = on_message
        self.offer_deflate = deflate
        self.deflate = False  # negotiated
        self._inflater = None
        self.acks = _Acks()
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._handshaken = False
        self._fragments: list[bytes] = []
        self._fragment_rsv1 = False
        self.upgraded: asyncio.Future | None = None
        self.connected: asyncio.Future | None = None
        self.closed: asyncio.Future | None = None
        self.sid: str | None = None
        self.received = 0

    # -- opening -------------------------------------------------------------------------------
    async def open(self, host: str, port: int, auth: dict, timeout: float = 10.0) -> WsClient:
        loop = asyncio.get_running_loop()
        self.upgraded, self.connected = loop.create_future(), loop.create_future()
        self.closed = loop.create_future()
        await asyncio.wait_for(loop.create_connection(lambda: self, host, port), timeout)
        sock = self.transport.get_extra_info("socket")
        # As browsers do: never let Nagle hold a client frame back.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        extension = (
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            if self.offer_deflate else ""
        )
        self.transport.write(
            (
                f"GET {ENGINE_PATH}?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n"
            ).encode()
        )
        try:
            await asyncio.wait_for(self.upgraded, timeout)
            self.send_raw(b"40" + json.dumps(auth, separators=(",", ":")).encode())
            await asyncio.wait_for(self.connected, timeout)
        except BaseException:
            self.close()
            raise
        return self

    # -- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        error = ConnectionError(f"connection lost: {exc}")
        for future in (self.upgraded, self.connected):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # nobody may await it any more (a timed-out open): no log noise
        if self.closed is not None and not self.closed.done():
            self.closed.set_result(None)
        self.acks.fail_all(error)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._handshaken and not self._read_handshake():
            return
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if end - pos < head + length:
                break
            payload = bytes(buf[pos + head:pos + head + length])
            pos += head + length
            self._frame(b0, payload)
        del buf[:pos]

    def _read_handshake(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[:end + 4]
        status = head.split("\r\n", 1)[0]
        if " 101 " not in status + " ":
            self.upgraded.set_exception(ConnectionError(f"upgrade refused: {status}"))
            self.transport.close()
            return False
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                self.deflate = True
                self._inflater = zlib.decompressobj(-15)
        self._handshaken = True
        return True

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        if opcode == 0 or not b0 & 0x80:  # a fragmented message: gather it
            if opcode:
                self._fragment_rsv1 = bool(b0 & 0x40)
            self._fragments.append(payload)
            if not b0 & 0x80:
                return
            payload, rsv1 = b"".join(self._fragments), self._fragment_rsv1
            self._fragments = []
        else:
            rsv1 = b0 & 0x40
        if opcode in (1, 2, 0):
            if rsv1:
                payload = self._inflater.decompress(payload + b"\x00\x00\xff\xff")
            self._engine_packet(payload)
        elif opcode == 8:
            self.close()
        elif opcode == 9:
            self._send_frame(0xA, payload)

    # -- Engine.IO / Socket.IO -----------------------------------------------------------------
    def _engine_packet(self, packet: bytes) -> None:
        kind = packet[:1]
        if kind == b"4":  # message: a Socket.IO packet follows
            self.received += 1
            if packet.startswith(MESSAGE_PREFIX):
                if self.on_message is not None:
                    self.on_message(packet)
            elif packet[1:2] == b"3":
                self.acks.resolve(packet[1:])
            elif packet[1:2] == b"0":
                self.sid = json.loads(packet[2:] or b"{}").get("sid")
                if not self.connected.done():
                    self.connected.set_result(True)
            elif packet[1:2] == b"4" and not self.connected.done():
                self.connected.set_exception(ConnectRefused(packet[2:].decode()))
        elif kind == b"2":  # ping: answer pong or the server drops us
            self.send_raw(b"3" + packet[1:])
        elif kind == b"0":
            self.upgraded.set_result(True)
        elif kind == b"1":
            self.close()

    def send_raw(self, data: bytes) -> None:
        self._send_frame(0x1, data)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("not connected")
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        key = os.urandom(4)
        self.transport.write(head + key + _mask(payload, key))

    def emit(self, event: str, data: dict) -> asyncio.Future:
        """Send an event that wants an ack; the future resolves to the ack's first argument."""
        ack_id, future = self.acks.new()
        self.send_raw(event_packet(event, data, ack_id))
        return future

    async def call(self, event: str, data: dict, timeout: float = 10.0):
        return await asyncio.wait_for(self.emit(event, data), timeout)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class PollingClient:
    """One Socket.IO connection that stays on HTTP long-polling (``transports=['polling']``)."""

    SEPARATOR = b"\x1e"

    def __init__(
        self, session: aiohttp.ClientSession, on_message: Callable[[bytes], None] | None = None
    ) -> None:
        self.session = session
        self.on_message = on_message
        self.acks = _Acks()
        self.sid: str | None = None
        self.url = ""
        self.connected: asyncio.Future | None = None
        self._poller: asyncio.Task | None = None
        self._outbox: list[bytes] = []
        self._flushing: asyncio.Task | None = None
        self.received = 0
        self.errors = 0

    async def open(
        self, host: str, port: int, auth: dict, timeout: float = 10.0
    ) -> PollingClient:
        base = f"http://{host}:{port}{ENGINE_PATH}?EIO=4&transport=polling"
        async with self.session.get(base, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            body = await resp.read()
        if resp.status != 200 or not body.startswith(b"0"):
            raise ConnectionError(f"polling handshake failed: {resp.status} {body[:80]!r}")
        self.sid = json.loads(body[1:])["sid"]
        self.url = f"{base}&sid={self.sid}"
        self.connected = asyncio.get_running_loop().create_future()
        self._poller = asyncio.create_task(self._poll())
        await self._post(b"40" + json.dumps(auth, separators=(",", ":")).encode())
        await asyncio.wait_for(self.connected, timeout)
        return self

    async def _poll(self) -> None:
        try:
            while True:
                wait = aiohttp.ClientTimeout(total=60)  # the server answers a poll within 25 s
                async with self.session.get(self.url, timeout=wait) as resp:
                    body = await resp.read()
                if resp.status != 200:
                    raise ConnectionError(f"poll answered {resp.status}")
                for packet in body.split(self.SEPARATOR):
                    if self._engine_packet(packet):
                        return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the session is gone: fail whoever waits
            self.errors += 1
            if self.connected is not None and not self.connected.done():
                self.connected.set_exception(exc)
            self.acks.fail_all(exc if isinstance(exc, ConnectionError) else ConnectionError(exc))

    def _engine_packet(self, packet: bytes) -> bool:
        """Handle one packet; True when the server closed the session."""
        kind = packet[:1]
        if kind == b"4":
            self.received += 1
            if packet.startswith(MESSAGE_PREFIX):
                if self.on_message is not None:
                    self.on_message(packet)
            elif packet[1:2] == b"3":
                self.acks.resolve(packet[1:])
            elif packet[1:2] == b"0" and not self.connected.done():
                self.connected.set_result(True)
            elif packet[1:2] == b"4" and not self.connected.done():
                self.connected.set_exception(ConnectRefused(packet[2:].decode()))
        elif kind == b"2":
            self.send_raw(b"3")
        elif kind == b"1":
            return True
        return False

    def send_raw(self, packet: bytes) -> None:
        """Queue a packet; one POST at a time carries everything queued (as real clients do)."""
        self._outbox.append(packet)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                await self._post(self.SEPARATOR.join(batch))
            except Exception as exc:  # noqa: BLE001 - any failure fails the batch's acks
                self.errors += 1
                self.acks.fail_all(ConnectionError(exc))
                return

    async def _post(self, body: bytes) -> None:
        async with self.session.post(
            self.url, data=body, headers={"Content-Type": "text/plain;charset=UTF-8"},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            await resp.read()
            if resp.status != 200:
                raise ConnectionError(f"post answered {resp.status}")

    def emit(self, event: str, data: dict) -> asyncio.Future:
        ack_id, future = self.acks.new()
        self.send_raw(event_packet(event, data, ack_id))
        return future

    async def call(self, event: str, data: dict, timeout: float = 10.0):
        return await asyncio.wait_for(self.emit(event, data), timeout)

    def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self.sid is not None:
            # Tell the server, so it frees the name now rather than after a ping timeout.
            asyncio.ensure_future(self._close_quietly())

    async def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # closing: the server may be gone already
            await self._post(b"1")
