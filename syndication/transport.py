"""The push HTTP client: one POST under a hard deadline, reading at most a capped answer.

A receiver can misbehave in ways a plain ``requests.post`` does not bound: accept the
connection and never answer, drip its headers a byte at a time, or send an endless or huge
body. Here every socket operation gets the *remaining* time of one overall deadline, only
the status line, the headers and whatever body bytes arrived with them are kept (never more
than ``max_bytes``), and the connection is closed as soon as the status is known. So one
attempt costs at most ``timeout`` seconds and ``max_bytes`` of memory, whatever the peer does.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .outbound import OutboundRefused, connect


class PushError(Exception):
    """A failed attempt; ``retryable`` says whether trying again later may succeed."""

    retryable = True


class PushTimeout(PushError):
    pass


class PushConnectError(PushError):
    pass


class PushProtocolError(PushError):
    pass


class PushURLError(PushError):
    retryable = False


class PushRefused(PushURLError):
    """The endpoint resolves to an address pushes must not go to (``outbound``)."""


@dataclass
class PushResponse:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after", "").strip()
        if value.isdigit():
            return float(value)
        return None


def http_post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    max_bytes: int = 64 * 1024,
) -> PushResponse:
    """POST ``body`` to ``url`` (http or https) and return the status and headers.

    Raises :class:`PushTimeout` when ``timeout`` (the whole exchange) runs out,
    :class:`PushConnectError` when the peer cannot be reached, :class:`PushProtocolError`
    when the answer is not HTTP (or its head exceeds ``max_bytes``), :class:`PushRefused`
    when ``url`` resolves to a loopback, private, link-local or reserved address.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PushURLError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise PushTimeout(f"no complete answer within {timeout:g} s")
        return left

    try:
        # Resolved and checked here, at send time; the checked address is the one dialled.
        sock = connect(parts.hostname, port, timeout=remaining())
    except OutboundRefused as exc:
        raise PushRefused(str(exc)) from exc
    except TimeoutError as exc:
        raise PushTimeout(f"connect timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise PushConnectError(f"cannot connect: {exc}") from exc
    try:
        if parts.scheme == "https":
            sock.settimeout(remaining())
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        host = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Connection: close", "", ""]
        sock.settimeout(remaining())
        sock.sendall("\r\n".join(lines).encode("latin-1") + body)
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            if len(buffer) >= max_bytes:
                raise PushProtocolError(f"answer head larger than {max_bytes} bytes")
            sock.settimeout(remaining())
            chunk = sock.recv(min(65536, max_bytes - len(buffer)))
            if not chunk:
                break
            buffer += chunk
    except TimeoutError as exc:
        raise PushTimeout(f"no complete answer within {timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise PushConnectError(f"TLS error: {exc}") from exc
    except OSError as exc:
        raise PushConnectError(f"connection error: {exc}") from exc
    finally:
        try:
            sock.close()
        except OSError:
            pass
    return _parse_head(bytes(buffer))


def _parse_head(data: bytes) -> PushResponse:
    head, _sep, rest = data.partition(b"\r\n\r\n")
    if not _sep:
        raise PushProtocolError("connection closed before a complete HTTP answer")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise PushProtocolError(f"not an HTTP answer: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, _colon, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return PushResponse(
        status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "", headers=headers, body=rest
    )
