"""A bridge process's loop body: the device API on one side, a vendor adapter on the other."""

from __future__ import annotations

from datetime import UTC, datetime

import requests


class Bridge:
    """Acts as one device towards Nguồn, translating with ``adapter``.

    ``send`` is a callable that delivers a vendor-format string to the hardware (a socket,
    a serial port, an SMS gateway); the bridge calls it with schedule uploads and commands.
    """

    def __init__(
        self,
        *,
        base_url: str,
        device_id: int,
        token: str,
        adapter,
        send,
        session: requests.Session | None = None,
        timeout: float = 15,
    ):
        self.base = f"{base_url.rstrip('/')}/api/v1/devices/{device_id}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.adapter = adapter
        self.send = send
        self.http = session or requests.Session()
        self.timeout = timeout
        self.etag = ""

    def sync_timeline(self) -> bool:
        """Upload the schedule to the hardware when it changed (ETag); True if uploaded."""
        headers = dict(self.headers)
        if self.etag:
            headers["If-None-Match"] = self.etag
        response = self.http.get(f"{self.base}/timeline", headers=headers, timeout=self.timeout)
        if response.status_code == 304:
            return False
        response.raise_for_status()
        self.etag = response.headers.get("ETag", "")
        self.send(self.adapter.timeline_to_vendor(response.json()))
        return True

    def forward_status(self, raw: str) -> dict:
        body = self.adapter.heartbeat_from_vendor(raw)
        response = self.http.post(
            f"{self.base}/heartbeat", json=body, headers=self.headers, timeout=self.timeout
        )
        response.raise_for_status()
        return response.json()

    def forward_playlogs(self, raw: str) -> dict:
        events = self.adapter.playlogs_from_vendor(raw)
        response = self.http.post(
            f"{self.base}/playlogs",
            json={"sent_at": datetime.now(UTC).isoformat(), "events": events},
            headers=self.headers,
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response.json()

    def relay_commands(self) -> int:
        """Deliver pending commands to the hardware and acknowledge them."""
        response = self.http.get(
            f"{self.base}/commands", headers=self.headers, timeout=self.timeout
        )
        response.raise_for_status()
        count = 0
        for command in response.json():
            try:
                self.send(self.adapter.command_to_vendor(command))
                status, detail = "done", ""
            except (ValueError, OSError) as exc:
                status, detail = "failed", str(exc)[:500]
            self.http.post(
                f"{self.base}/commands/{command['id']}/ack",
                json={"status": status, "detail": detail},
                headers=self.headers,
                timeout=self.timeout,
            )
            count += 1
        return count
