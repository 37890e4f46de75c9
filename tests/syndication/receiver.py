"""A local push receiver on 127.0.0.1 for the tests: a real HTTP server in a thread whose
behaviour can be switched while it runs (refuse connections, 500, hang, huge or endless
answers, then recover), and which dedupes what it received by the idempotency key."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """Modes: ``ok``, ``status:<code>`` (e.g. ``status:500``), ``hang`` (read the request,
    answer nothing until released), ``drip`` (a status line, then a header byte every 0.2 s,
    forever), ``huge`` (a 500 with an endless body), ``endless-ok`` (200 headers, then an
    endless body), ``refuse`` (nothing listens on the port)."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.mode = "ok"
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every request that reached a handler
        self.first_seen: list[str] = []  # idempotency keys in order of first arrival
        self.seen: set[str] = set()
        self.bad_signatures = 0
        self.release = threading.Event()
        self._server = None
        self._thread = None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/push"

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                receiver._handle(self)

        for _ in range(50):
            try:
                self._server = _Server(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("could not bind the receiver port again")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def set_mode(self, mode: str) -> None:
        if mode == "refuse":
            self.mode = mode
            self.stop()
            return
        if self._server is None:
            self.start()
        self.release.clear()
        self.mode = mode

    # --- handling -------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        key = handler.headers.get("Idempotency-Key", "")
        mode = self.mode
        with self.lock:
            self.requests.append(
                {"key": key, "mode": mode, "headers": dict(handler.headers), "body": body}
            )
        if mode == "hang":
            self.release.wait(30)
            return
        if mode == "drip":
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            handler.wfile.flush()
            for _ in range(300):
                if self.release.is_set():
                    return
                try:
                    handler.wfile.write(b"X")
                    handler.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
            return
        if mode in ("huge", "endless-ok"):
            status = b"500 Internal Server Error" if mode == "huge" else b"200 OK"
            handler.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 1000000000\r\n\r\n")
            chunk = b"x" * 65536
            for _ in range(16000):  # ~1 GB if anyone read it all
                if self.release.is_set():
                    return
                try:
                    handler.wfile.write(chunk)
                except OSError:
                    return
            return
        if mode.startswith("status:"):
            code = int(mode.split(":", 1)[1])
            handler.send_response(code)
            handler.send_header("Content-Length", "5")
            handler.end_headers()
            handler.wfile.write(b"error")
            return
        # ok: check the signature, remember the key once.
        timestamp = handler.headers.get("X-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        if self.secret and not hmac.compare_digest(
            expected, handler.headers.get("X-Signature", "")
        ):
            with self.lock:
                self.bad_signatures += 1
            handler.send_response(401)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        with self.lock:
            if key not in self.seen:
                self.seen.add(key)
                self.first_seen.append(key)
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    def bodies_for(self, key: str) -> list[bytes]:
        return [r["body"] for r in self.requests if r["key"] == key]
