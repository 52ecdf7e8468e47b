"""Where the load may go: loopback only, never another address."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class NotLoopback(ValueError):
    """The target is not on this machine's loopback interface."""


def require_loopback(url: str | None) -> str:
    """Return ``url`` (without a trailing slash) if its host is a loopback address, else raise.

    Accepted: 127.0.0.0/8, ::1, and ``localhost`` when every address it resolves to is loopback.
    """
    if not url:
        raise NotLoopback("no host given")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopback(f"not an http(s) URL: {url!r}")
    host = parts.hostname
    if host == "localhost":
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    else:
        addresses = {host}
    for address in addresses:
        try:
            loopback = ipaddress.ip_address(str(address).split("%")[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise NotLoopback(
                f"refusing to load-test {host!r}: only loopback targets "
                "(127.0.0.0/8, ::1, localhost) are allowed"
            )
    return url.rstrip("/")
