"""Helpers every test folder may import (``from tests.support import …``); conftest.py
files import them from here too, so no test imports a conftest module."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

REQUIRED = {s.strip() for s in os.environ.get("NGUON_REQUIRE_SERVICES", "").split(",") if s.strip()}


def require(service: str, available: bool, reason: str) -> None:
    """Skip when ``service`` is missing, or fail if the run requires it
    (``NGUON_REQUIRE_SERVICES``, comma separated: postgres, redis, worker, …)."""
    if available:
        return
    if service in REQUIRED:
        pytest.fail(f"{service} is required by NGUON_REQUIRE_SERVICES but {reason}")
    pytest.skip(reason)


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = 60,
    interval: float = 0.25,
    what: str = "condition",
) -> T:
    """Poll ``predicate`` every ``interval`` seconds and return its first true value; fail
    with "timed out after …s waiting for ``what``" after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SilentListener:
    """A TCP server that accepts and never answers; ``accepted`` counts the connections
    (uploads and outbound requests must make none)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()
