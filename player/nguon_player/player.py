"""The player: keeps the timeline and the cache current, plays each entry at its time.

Four threads share one state (a lock):

- the scheduler (``run``, the main thread) decides every 100 ms — or at once when woken —
  what should be on air: an emergency preempts whatever plays; otherwise the entry whose
  time has come. A :class:`Playback` prepares the decoder a second early and writes the
  first sound at the entry's start on the server's clock;
- the sync thread polls the timeline (ETag, the advised interval with jitter), sends
  heartbeats, runs and acknowledges commands, uploads the play-log spool;
- the download thread fills the cache for the next ``prefetch_hours`` (emergencies
  first) and evicts what no entry needs when over budget;
- paho's MQTT thread (when ``mqtt_url`` is set) queues pushed commands and wakes the
  sync thread, so an emergency starts without waiting for a poll.

Offline, the last timeline (kept in the spool) keeps playing from the cache; play events
wait in the spool until the server is back.
"""

from __future__ import annotations

import logging
import queue
import shutil
import socket
import subprocess
import threading
import time
import wave
from pathlib import Path
from urllib.parse import urlparse

from . import __version__
from .audio import ffmpeg_binary, make_output
from .cache import MediaCache
from .commands import command_apply
from .config import Config
from .playback import Playback, Source
from .protocol import (
    ChecksumMismatch,
    CommandSubscriber,
    DeviceClient,
    Entry,
    ProtocolError,
    Unreachable,
    command_topic,
    entries_of,
    jittered,
    media_needed,
    play_event,
)
from .spool import Spool

logger = logging.getLogger("nguon_player")
PREPARE_SECONDS = 1.0  # start the decoder this long before an entry's start
OVERRUN_SECONDS = 5.0  # an audio entry may finish this long after its announced end
RETRY_OFFLINE_SECONDS = 10.0
LATE_JOIN_SECONDS = 3.0  # started later than this: join the entry at its current point


class Player:
    def __init__(self, config: Config, *, client: DeviceClient | None = None):
        self.cfg = config
        self.client = client or DeviceClient(
            config.server_url, config.device_id, config.token, timeout=config.http_timeout
        )
        self.cache = MediaCache(
            config.cache_dir,
            budget_bytes=config.cache_budget_mb << 20,
            rate_limit=config.download_kbps * 1024,
        )
        self.spool = Spool(config.cache_dir / "state.sqlite3")
        self.ffmpeg = ffmpeg_binary(config.ffmpeg)
        self.output = make_output(config.output_kind, config.output_target, ffmpeg=config.ffmpeg)
        self.lock = threading.RLock()
        self.wake = threading.Event()  # the scheduler
        self.sync_wake = threading.Event()
        self.download_wake = threading.Event()
        self.shutdown = threading.Event()
        self.commands: queue.Queue[dict] = queue.Queue()
        self.refresh_wanted = threading.Event()
        self.current: Playback | None = None
        self.last_error = ""
        self.last_error_at = 0.0
        self.online: bool | None = None
        self.ran_out_logged = False
        self.pending_commands = 0
        self.mqtt: CommandSubscriber | None = None
        self.mqtt_connected = False
        self._download_locks: dict[str, threading.Lock] = {}

        recovered = self.spool.recover()
        if recovered:
            logger.warning("closed %d play event(s) left open by the last run", recovered)
        self.volume = int(self.spool.get("volume", config.volume))
        self.powered = bool(self.spool.get("powered", True))
        self.stopped_keys: set[str] = set(self.spool.get("stopped_keys", []))
        self.applied: list[int] = list(self.spool.get("applied_commands", []))
        self.finished = self.spool.finished_keys()
        self.etag = self.spool.get("etag", "")
        self.adhoc: list[Entry] = []
        cached = self.spool.get("timeline")
        self.entries: list[Entry] = entries_of(cached) if cached else []
        if cached:
            logger.info("loaded the cached timeline: %d entries", len(self.entries))

    # -- life cycle ------------------------------------------------------------------------

    def start_threads(self) -> None:
        for target, name in ((self._sync_loop, "sync"), (self._download_loop, "download")):
            threading.Thread(target=target, name=name, daemon=True).start()
        if self.cfg.mqtt_url:
            topic = command_topic(self.cfg.mqtt_topic_prefix, self.cfg.device_id)
            self.mqtt = CommandSubscriber(
                self.cfg.mqtt_url,
                topics={topic: self.cfg.device_id},
                on_command=self._pushed,
                client_id=f"nguon-player-{self.cfg.device_id}",
                username=str(self.cfg.device_id),
                password=self.cfg.token,
                on_connected=self._mqtt_state,
            )
            self.mqtt.start()

    def run(self) -> None:
        """Play until :meth:`stop` (SIGTERM/SIGINT) is called."""
        logger.info(
            "nguon-player %s: device %s at %s, output %s, cache %s",
            __version__, self.cfg.device_id, self.cfg.server_url, self.cfg.output,
            self.cfg.cache_dir,
        )  # fmt: skip
        self.start_threads()
        while not self.shutdown.is_set():
            try:
                self.tick()
            except Exception:  # the scheduler must survive anything; say what happened
                logger.exception("scheduler error")
            self.wake.wait(0.1)
            self.wake.clear()
        self._close()

    def stop(self) -> None:
        self.shutdown.set()
        self.wake.set()
        self.sync_wake.set()
        self.download_wake.set()

    def _close(self) -> None:
        current = self.current
        if current is not None:
            current.stop("interrupted")
            current.done.wait(3)
        try:
            self.upload_playlogs()
        except (Unreachable, ProtocolError):
            pass
        if self.mqtt is not None:
            self.mqtt.stop()
        self.spool.close()
        logger.info("stopped")

    # -- scheduling ------------------------------------------------------------------------

    def _all_entries(self) -> list[Entry]:
        with self.lock:
            return self.adhoc + self.entries

    def choose(self, now: float) -> Entry | None:
        """The entry that should be on air now (or within PREPARE_SECONDS)."""
        candidates = [
            e
            for e in self._all_entries()
            if e.start - PREPARE_SECONDS <= now < e.end
            and e.key not in self.finished
            and e.key not in self.stopped_keys
        ]
        if not candidates:
            return None
        candidates.sort(key=lambda e: (not e.emergency, not e.id.startswith("cmd-"), e.start))
        return candidates[0]

    def tick(self) -> None:
        now = self.client.server_now()
        current = self.current
        if current is not None and current.done.is_set():
            self.current = current = None
        if not self.powered:
            if current is not None:
                current.stop("interrupted")
            return
        want = self.choose(now)
        if current is not None:
            listed = {e.key: e for e in self._all_entries()}
            mine = listed.get(current.entry.key)
            if mine is None:
                logger.info("entry %s left the timeline: stopping it", current.entry.key)
                current.stop("interrupted")
                return
            if mine.end < current.entry.end - 0.5 and now >= mine.end:
                logger.info("entry %s was ended early by the server", current.entry.key)
                current.stop("interrupted", final=True)
                return
            if want is not None and want.key != current.entry.key:
                if want.emergency and not current.entry.emergency:
                    logger.warning("emergency %s preempts %s", want.key, current.entry.key)
                    current.stop("interrupted")
                    current.done.wait(2)
                    self.current = None
                elif now < current.entry.end + OVERRUN_SECONDS:
                    return
                else:
                    current.stop("interrupted")
                    return
            else:
                return
        if want is None:
            self._check_ran_out(now)
            return
        # A few seconds late (an emergency just pushed, a poll that came late): from the
        # beginning. Later than that (a restart mid-entry): join it where it is now.
        # A resumed entry (a restart, an emergency over) always joins where it is now.
        late = now - want.start
        resumed = self.spool.attempts(want.key)[0] > 0
        offset = late if late > LATE_JOIN_SECONDS or resumed else 0.0
        playback = Playback(self, want, at=max(want.start, now), offset=offset)
        self.current = playback
        playback.start()

    def _check_ran_out(self, now: float) -> None:
        if self.online is False and not self.ran_out_logged:
            if not any(e.end > now for e in self._all_entries()):
                logger.warning("offline and the cached timeline has run out: silent until "
                               "the server is back")  # fmt: skip
                self.ran_out_logged = True

    def sources(self, entry: Entry, stopping: threading.Event) -> list[Source]:
        """Local files (downloaded now if the prefetch has not got them) and streams."""
        found = []
        for part in entry.parts:
            if stopping.is_set():
                return []
            kind = part.get("type")
            try:
                if kind == "audio":
                    path = self.cache.path(part["sha256"])
                    if not path.exists():
                        path = self.download(part)
                    self.cache.touch(part["sha256"])
                    found.append(Source(str(path), part.get("duration"), label=part["sha256"]))
                elif kind == "tts":
                    path = self.cache.tts_file(
                        part.get("text", ""),
                        part.get("voice", ""),
                        float(part.get("speed") or 1.0),
                        self.cfg.tts_command,
                    )
                    found.append(Source(str(path), _wav_seconds(path), label="tts"))
                elif kind in ("relay", "live"):
                    found.append(
                        Source(
                            part["url"],
                            part.get("duration"),
                            stream=True,
                            label=kind,
                            live=kind == "live",
                        )  # fmt: skip
                    )
            except (OSError, subprocess.SubprocessError, Unreachable, ProtocolError,
                    ChecksumMismatch) as exc:  # fmt: skip
                logger.error("cannot play a %s part of %s: %s", kind, entry.key, exc)
                self.note_error(f"{kind}: {exc}")
        return found

    def playback_started(self, playback: Playback) -> str:
        attempts, _final = self.spool.attempts(playback.entry.key)
        event = play_event(
            playback.entry,
            attempt=attempts + 1,
            started_at=playback.started_at,
            duration=0,
            status="completed",
        )
        self.spool.begin(playback.entry.key, event)
        late = self.client.server_now() - playback.at
        logger.info(
            "playing %s (%s, %s) from %.1f s, %+.3f s from its time",
            playback.entry.key, playback.entry.programme, playback.entry.bulletin_class,
            playback.offset, late,
        )  # fmt: skip
        return event["id"]

    def playback_ended(self, playback: Playback, *, status: str, final: bool) -> None:
        entry = playback.entry
        if playback.event_id:
            self.spool.finish(playback.event_id, duration=playback.played, status=status,
                              final=final)  # fmt: skip
        elif status == "failed":
            event = play_event(entry, attempt=1, started_at=time.time(), duration=0,
                               status="failed")  # fmt: skip
            self.spool.begin(entry.key, event)
            self.spool.finish(event["id"], duration=0, status="failed", final=True)
        if final:
            self.finished.add(entry.key)
        if entry.id.startswith("cmd-"):
            with self.lock:
                self.adhoc = [e for e in self.adhoc if e.key != entry.key]
        logger.info("%s %s after %.1f s", status, entry.key, playback.played)
        self.sync_wake.set()

    def note_error(self, message: str) -> None:
        self.last_error, self.last_error_at = message[:500], time.time()

    # -- downloads -------------------------------------------------------------------------

    def download(self, part: dict) -> Path:
        with self.lock:
            lock = self._download_locks.setdefault(part["sha256"], threading.Lock())
        with lock:
            return self.cache.download(self.client, part)

    def _download_loop(self) -> None:
        while not self.shutdown.is_set():
            delay = 60.0
            now = self.client.server_now()
            entries = self._all_entries()
            needed = media_needed(entries, now=now, hours=self.cfg.prefetch_hours)
            for part in needed:
                if self.shutdown.is_set():
                    return
                if self.cache.has(part["sha256"]):
                    continue
                try:
                    self.download(part)
                except Unreachable as exc:
                    logger.warning("download paused (server unreachable): %s", exc)
                    delay = RETRY_OFFLINE_SECONDS
                    break
                except (ProtocolError, ChecksumMismatch, OSError) as exc:
                    logger.error("download of %s failed: %s", part.get("url"), exc)
                    self.note_error(str(exc))
                    delay = RETRY_OFFLINE_SECONDS
            for entry in entries:
                for part in entry.parts:
                    if part.get("type") == "tts" and entry.end > now:
                        try:
                            self.cache.tts_file(part.get("text", ""), part.get("voice", ""),
                                                float(part.get("speed") or 1.0),
                                                self.cfg.tts_command)  # fmt: skip
                        except (OSError, subprocess.SubprocessError) as exc:
                            logger.warning("speech for %s not made: %s", entry.key, exc)
            keep = {p["sha256"] for e in entries for p in e.parts if p.get("sha256")}
            self.cache.evict(keep)
            self.download_wake.wait(delay)
            self.download_wake.clear()

    def cache_hours(self, now: float) -> float:
        """How far ahead (hours) every entry's audio is in the cache."""
        horizon = now + self.cfg.prefetch_hours * 3600
        for entry in self._all_entries():
            if entry.end <= now:
                continue
            for part in entry.parts:
                if part.get("type") == "audio" and not self.cache.has(part["sha256"]):
                    return round(max(0.0, entry.start - now) / 3600, 2)
        return round((horizon - now) / 3600, 2)

    # -- server sync -----------------------------------------------------------------------

    def _sync_loop(self) -> None:
        next_poll = next_beat = 0.0
        while not self.shutdown.is_set():
            mono = time.monotonic()
            try:
                if self.refresh_wanted.is_set() or mono >= next_poll:
                    self.refresh_wanted.clear()
                    self.poll_timeline()
                    next_poll = time.monotonic() + jittered(self.poll_interval())
                self.run_commands()
                if mono >= next_beat:
                    self.send_heartbeat()
                    next_beat = time.monotonic() + jittered(self.cfg.heartbeat_seconds, 0.05)
                    if self.pending_commands:
                        self.run_commands(fetch=True)
                self.upload_playlogs()
                self._set_online(True)
            except Unreachable as exc:
                self._set_online(False, str(exc))
                next_poll = min(next_poll, time.monotonic() + RETRY_OFFLINE_SECONDS)
                next_beat = min(next_beat, time.monotonic() + RETRY_OFFLINE_SECONDS)
            except ProtocolError as exc:
                logger.error("server refused: %s", exc)
                self.note_error(str(exc))
                next_poll = max(next_poll, time.monotonic() + RETRY_OFFLINE_SECONDS)
            wait = max(0.05, min(next_poll, next_beat) - time.monotonic())
            self.sync_wake.wait(wait)
            self.sync_wake.clear()

    def poll_interval(self) -> float:
        return self.cfg.poll_seconds or self.client.advised_poll

    def _set_online(self, online: bool, why: str = "") -> None:
        if online == self.online:
            return
        self.online = online
        now = self.client.server_now()
        if online:
            waiting = self.spool.counts().get("ready", 0)
            logger.info(
                "server reachable%s", f"; {waiting} play log(s) to upload" if waiting else ""
            )
            self.ran_out_logged = False
        else:
            upcoming = [e for e in self._all_entries() if e.end > now]
            until = max((e.end for e in upcoming), default=now)
            logger.warning(
                "server unreachable (%s): playing the cached timeline, %d entries until %s",
                why, len(upcoming), time.strftime("%d/%m/%Y %H:%M", time.localtime(until)),
            )  # fmt: skip

    def poll_timeline(self) -> bool:
        result = self.client.timeline(self.etag)
        if result.status == 304:
            return False
        entries = entries_of(result.body)
        with self.lock:
            self.entries = entries
            self.etag = result.etag
        self.spool.put("timeline", result.body)
        self.spool.put("etag", result.etag)
        logger.info("timeline %s: %d entries (server clock %+.3f s from ours)", result.etag,
                    len(entries), self.client.skew)  # fmt: skip
        self.wake.set()
        self.download_wake.set()
        return True

    def heartbeat_state(self) -> dict:
        now = self.client.server_now()
        current = self.current
        playing = current is not None and current.on_air
        if not self.powered:
            status = "off"
        elif playing:
            status = "playing"
        elif self.last_error and time.time() - self.last_error_at < 300:
            status = "error"
        else:
            status = "idle"
        disk = shutil.disk_usage(self.cfg.cache_dir)
        state = {
            "status": status,
            "volume": self.volume,
            "firmware": f"nguon-player {__version__}",
            "now_playing": (current.entry.programme[:255] if playing else ""),
            # Fields the server may not store yet; extra fields are ignored by older ones.
            "cache_hours": self.cache_hours(now),
            "disk_free_mb": disk.free >> 20,
            "software_version": __version__,
            "spooled_playlogs": self.spool.counts().get("ready", 0),
        }
        if status == "error":
            state["error"] = self.last_error
        ip = _local_ip(self.cfg.server_url)
        if ip:
            state["ip"] = ip
        return state

    def send_heartbeat(self) -> None:
        answer = self.client.heartbeat(self.heartbeat_state())
        self.pending_commands = int(answer.get("pending_commands") or 0)

    def upload_playlogs(self) -> int:
        sent = 0
        while batch := self.spool.ready(500):
            result = self.client.playlogs(batch)
            # A 200 settles the whole batch: stored, already stored, or refused for good
            # (listed in "errors"; sending a refused event again cannot change the answer).
            self.spool.mark_sent([e["id"] for e in batch])
            sent += len(batch)
            logger.info("uploaded %d play log(s): %s accepted, %s duplicates, %s refused",
                        len(batch), result.get("accepted"), result.get("duplicates"),
                        result.get("refused", 0))  # fmt: skip
            for error in result.get("errors") or []:
                logger.warning("play log %s refused (%s): %s", error.get("id"),
                               error.get("field"), error.get("error"))  # fmt: skip
        if sent:
            self.spool.prune(time.time() - 7 * 86400)
        return sent

    # -- commands --------------------------------------------------------------------------

    def _pushed(self, _device_id: int, command: dict) -> None:
        self.commands.put(command)
        self.sync_wake.set()

    def _mqtt_state(self, connected: bool) -> None:
        if connected != self.mqtt_connected:
            self.mqtt_connected = connected
            logger.info("MQTT %s", "connected" if connected else "disconnected")
            if connected:
                self.refresh_wanted.set()  # whatever was pushed while away
                self.sync_wake.set()

    def run_commands(self, *, fetch: bool = False) -> None:
        batch = []
        while True:
            try:
                batch.append(self.commands.get_nowait())
            except queue.Empty:
                break
        if fetch:
            batch += self.client.commands()
        for command in batch:
            self.handle_command(command)

    def handle_command(self, command: dict) -> None:
        """Apply a command once (ids remembered across restarts), then acknowledge it."""
        cid = int(command["id"])
        status, detail = "done", ""
        if cid not in self.applied:
            status, detail = command_apply(self, command)
            self.applied = (self.applied + [cid])[-500:]
            self.spool.put("applied_commands", self.applied)
        self.client.ack(cid, status, detail)
        logger.info("command %s %s: %s %s", cid, command.get("kind"), status, detail)


def _wav_seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, OSError, EOFError):
        return None


_ip_cache: dict[str, tuple[float, str]] = {}


def _local_ip(server_url: str) -> str:
    """The address this device uses to reach the server (no packet is sent)."""
    cached = _ip_cache.get(server_url)
    if cached and time.monotonic() - cached[0] < 600:
        return cached[1]
    host = urlparse(server_url).hostname or "127.0.0.1"
    ip = ""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 9))
            ip = s.getsockname()[0]
    except OSError:
        pass
    _ip_cache[server_url] = (time.monotonic(), ip)
    return ip
