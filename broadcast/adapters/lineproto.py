"""Example adapter: a (typical) line-based text protocol of a 4G loudspeaker controller.

Schedule upload, one line per file, times in Unix seconds::

    CLR
    PLAY 1767222000 1767222120 https://…/media/42 3f7a…(sha256) P
    RELAY 1767225600 1767229200 https://radio.example/vov1 N
    EMRG 1767222000 1767222300 TEXT Nước sông dâng cao…

Status report: ``ST=PLAYING;VOL=70;RSSI=-71;FW=2.4.1;IP=10.0.0.7;NOW=Bản tin sáng``.
Play history, one line per played file: ``LOG <seq> <unix start> <seconds> <OK|INT|ERR> <entry>``.
Commands: ``VOL 40``, ``PWR ON``, ``PWR OFF``, ``STOP``, ``PLAYNOW <url> <sha256>``,
``EMRG START <programme>``, ``EMRG STOP <programme>``.
"""

from __future__ import annotations

from datetime import UTC, datetime

_CLASS = {"normal": "N", "priority": "P", "emergency": "E"}
_STATE = {"PLAYING": "playing", "IDLE": "idle", "OFF": "off", "ERROR": "error", "ERR": "error"}
_STATUS = {"OK": "completed", "INT": "interrupted", "ERR": "failed"}


def _epoch(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


class LineProtocolAdapter:
    vendor = "lineproto"

    def __init__(self, *, device_serial: str = ""):
        self.serial = device_serial

    def timeline_to_vendor(self, timeline: dict) -> str:
        lines = ["CLR"]
        for entry in timeline["entries"]:
            start, end = _epoch(entry["start"]), _epoch(entry["end"])
            klass = _CLASS.get(entry["class"], "N")
            if entry["class"] == "emergency":
                for part in entry["parts"]:
                    if part["type"] in ("tts", "text"):
                        lines.append(f"EMRG {start} {end} TEXT {part['text']}")
                    elif part.get("url"):
                        lines.append(f"EMRG {start} {end} URL {part['url']}")
                continue
            cursor = start
            for part in entry["parts"]:
                if part["type"] == "audio":
                    stop = cursor + int(round(part.get("duration") or 0))
                    lines.append(f"PLAY {cursor} {stop} {part['url']} {part['sha256']} {klass}")
                    cursor = stop
                elif part["type"] == "relay":
                    lines.append(f"RELAY {start} {end} {part['url']} {klass}")
                elif part["type"] == "tts":
                    lines.append(f"SAY {cursor} {part['text']}")
        return "\n".join(lines) + "\n"

    def command_to_vendor(self, command: dict) -> str:
        kind, payload = command["kind"], command.get("payload") or {}
        if kind == "set_volume":
            return f"VOL {int(payload['volume'])}"
        if kind == "power_on":
            return "PWR ON"
        if kind == "power_off":
            return "PWR OFF"
        if kind == "stop":
            return "STOP"
        if kind == "play_now":
            return f"PLAYNOW {payload.get('url', '')} {payload.get('sha256', '')}".strip()
        if kind == "emergency_start":
            return f"EMRG START {payload.get('programme_id')}"
        if kind == "emergency_stop":
            return f"EMRG STOP {payload.get('programme_id')}"
        raise ValueError(f"unsupported command {kind!r}")

    def heartbeat_from_vendor(self, raw: str) -> dict:
        fields = dict(p.split("=", 1) for p in raw.strip().split(";") if "=" in p)
        beat: dict = {"status": _STATE.get(fields.get("ST", "").upper(), "idle")}
        if "VOL" in fields:
            beat["volume"] = max(0, min(100, int(fields["VOL"])))
        if "RSSI" in fields:
            beat["signal"] = int(fields["RSSI"])
        if "FW" in fields:
            beat["firmware"] = fields["FW"][:64]
        if "IP" in fields:
            beat["ip"] = fields["IP"]
        if "NOW" in fields:
            beat["now_playing"] = fields["NOW"][:255]
        if "ERR" in fields:
            beat["error"] = fields["ERR"][:500]
        return beat

    def playlogs_from_vendor(self, raw: str) -> list[dict]:
        events = []
        for line in raw.splitlines():
            parts = line.split(maxsplit=5)
            if len(parts) < 5 or parts[0] != "LOG":
                continue
            _tag, seq, start, seconds, status, *rest = parts
            events.append(
                {
                    # The controller's sequence number restarts after a reset; the start time
                    # makes the id stable across replays and unique across resets.
                    "id": f"{self.serial}-{seq}-{start}"[:64],
                    "entry_id": rest[0] if rest else "",
                    "started_at": datetime.fromtimestamp(int(start), UTC).isoformat(),
                    "duration": float(seconds),
                    "status": _STATUS.get(status, "completed"),
                }
            )
        return events
