"""Vendor adapters: bridge a vendor's own protocol to the open device API.

A deployed receiver that cannot speak the device API directly (a vendor's proprietary
controller, a serial/4G box with its own text protocol) is served by a small bridge process:
the bridge talks HTTP+JSON (and MQTT) to Nguồn as the device, and the vendor protocol to the
hardware. Only the translation differs between vendors; it lives in a class that follows
:class:`VendorAdapter`. :class:`Bridge` does the rest (ETag polling, heartbeats, play logs,
commands). See ``docs/broadcast.md`` ("Bridging a vendor protocol").
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .bridge import Bridge
from .lineproto import LineProtocolAdapter


@runtime_checkable
class VendorAdapter(Protocol):
    """Translation between the device API's JSON and one vendor's wire format."""

    vendor: str

    def timeline_to_vendor(self, timeline: dict) -> str:
        """Render ``GET /timeline``'s JSON as the vendor's playlist/schedule upload."""

    def command_to_vendor(self, command: dict) -> str:
        """Render one command (``GET /commands`` item or MQTT message) for the hardware."""

    def heartbeat_from_vendor(self, raw: str) -> dict:
        """Parse the hardware's status report into the ``POST /heartbeat`` body."""

    def playlogs_from_vendor(self, raw: str) -> list[dict]:
        """Parse the hardware's play history into ``POST /playlogs`` events (stable ids)."""


ADAPTERS: dict[str, type] = {LineProtocolAdapter.vendor: LineProtocolAdapter}

__all__ = ["ADAPTERS", "Bridge", "LineProtocolAdapter", "VendorAdapter"]
