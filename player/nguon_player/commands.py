"""Commands from the server (``GET /commands`` or the MQTT push), carried out once.

Kinds: ``set_volume``, ``power_off`` / ``power_on`` (the output, and the amplifier relay
when ``power_*_command`` is configured), ``stop`` (the entry playing; it does not resume),
``start`` (undo stop and power off), ``refresh`` / ``emergency_start`` /
``emergency_stop`` / ``live_start`` / ``live_stop`` (fetch the timeline now), ``play_now``
(an item at once, after any emergency). Anything else is acknowledged as failed, naming the kind.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from .protocol import Entry

if TYPE_CHECKING:
    from .player import Player


def command_apply(player: Player, command: dict) -> tuple[str, str]:
    """Carry out one command on ``player``; returns the acknowledgement (status, detail)."""
    kind = command.get("kind")
    payload = command.get("payload") or {}
    if kind == "set_volume":
        volume = payload.get("volume")
        if not isinstance(volume, int) or not 0 <= volume <= 100:
            return "failed", "volume must be 0-100"
        player.volume = volume
        player.spool.put("volume", volume)
        return "done", f"volume {volume}"
    if kind in ("power_off", "power_on"):
        on = kind == "power_on"
        argv = player.cfg.power_on_command if on else player.cfg.power_off_command
        if argv:
            try:
                subprocess.run(argv, check=True, timeout=20, capture_output=True)  # noqa: S603
            except (OSError, subprocess.SubprocessError) as exc:
                return "failed", f"{argv[0]}: {exc}"
        player.powered = on
        player.spool.put("powered", on)
        if not on and player.current is not None:
            player.current.stop("interrupted")
        player.wake.set()
        return "done", "output on" if on else "output off"
    if kind == "stop":
        current = player.current
        if current is not None and not current.done.is_set():
            player.stopped_keys.add(current.entry.key)
            player.spool.put("stopped_keys", sorted(player.stopped_keys)[-200:])
            current.stop("interrupted")
            return "done", f"stopped {current.entry.key}"
        return "done", "nothing was playing"
    if kind == "start":
        player.stopped_keys.clear()
        player.spool.put("stopped_keys", [])
        player.powered = True
        player.spool.put("powered", True)
        player.wake.set()
        return "done", "playing the timeline"
    if kind in ("refresh", "emergency_start", "emergency_stop", "live_start", "live_stop"):
        player.poll_timeline()
        player.wake.set()
        return "done", "timeline refreshed"
    if kind == "play_now":
        rendition = payload.get("rendition_id")
        if not rendition or not payload.get("sha256"):
            return "failed", "play_now needs rendition_id and sha256"
        now = player.client.server_now()
        part = {
            "type": "audio",
            "item": payload.get("item"),
            "headline": payload.get("headline", ""),
            "url": player.client.media_url(rendition),
            "sha256": payload["sha256"],
            "size": payload.get("size"),
            "duration": None,
        }
        entry = Entry(
            id=f"cmd-{command['id']}",
            start=now,
            end=now + 6 * 3600,
            bulletin_class="normal",
            preempts=False,
            programme=str(payload.get("headline", ""))[:255],
            slot_id=None,
            parts=(part,),
        )
        with player.lock:
            player.adhoc.append(entry)
        player.wake.set()
        return "done", "queued"
    return "failed", f"unknown command {kind!r}"
