"""Raw-socket HTTP/1.1 clients for what httpx cannot do: stop halfway, stream without a
Content-Length, keep sending while reading."""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass

BOUNDARY = "mmedboundary"


def multipart_head(filename: str = "upload.bin") -> bytes:
    """The multipart body up to the first byte of the file part's content."""
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def multipart_tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


def request_head(
    port: int, headers: dict[str, str], path: str = "/v1/predict", method: str = "POST"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart_headers(api_key: str | None, **extra: str) -> dict[str, str]:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **extra}
    if api_key is not None:
        headers["X-API-Key"] = api_key
    return headers


def read_response(sock: socket.socket, timeout: float = 10, data: bytes = b"") -> bytes:
    """Read until the peer closes or a full response (by Content-Length) has arrived."""
    sock.settimeout(timeout)
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and len(body) >= int(value):
                    return data
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            return data
        if not chunk:
            return data
        data += chunk


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@dataclass
class StreamOutcome:
    response: bytes  # what arrived (empty if nothing)
    sent: int  # body bytes the kernel accepted before the response came
    offered: int  # body bytes the client was prepared to send
    seconds: float


def stream_until_answered(
    port: int, headers: dict[str, str], body_head: bytes, offered: int, timeout: float = 30
) -> StreamOutcome:
    """POST with ``Transfer-Encoding: chunked``: ``body_head`` then zero bytes in 64 KiB chunks
    up to ``offered`` bytes, reading all the while; stops as soon as a response arrives."""
    block = bytes(65536)
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request_head(port, {**headers, "Transfer-Encoding": "chunked"}))
        sock.sendall(f"{len(body_head):x}\r\n".encode() + body_head + b"\r\n")
        sock.setblocking(False)
        sent, pending, response = 0, b"", b""
        while time.monotonic() - started < timeout:
            readable, writable, _ = select.select([sock], [sock] if sent < offered else [], [], 1)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionError:
                    break
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response:
                    response = read_response(sock, timeout=5, data=response)
                    break
            if writable:
                if not pending:
                    pending = chunk
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += n
                pending = pending[n:]
        return StreamOutcome(response, sent, offered, time.monotonic() - started)
