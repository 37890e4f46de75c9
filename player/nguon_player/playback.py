"""One entry on air: decoder → volume → output, paced in real time.

A :class:`Playback` is a thread the scheduler starts up to a second before an entry's
start: it resolves the entry's sources (cached files, speech, streams), starts the
decoder, then writes the first sound at the entry's start on the server's clock. It tells
the player when the first sound plays, how far it got every second, and how it ended.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .audio import BYTES_PER_SECOND, CHUNK, AudioError, Output, apply_volume, decoder, pace
from .protocol import ChecksumMismatch, Entry, ProtocolError, Unreachable

if TYPE_CHECKING:
    from .player import Player

logger = logging.getLogger("nguon_player")


@dataclass
class Source:
    """What a part plays: a local file or a stream URL, and its length if known."""

    location: str
    duration: float | None
    stream: bool = False
    label: str = ""
    live: bool = False  # the server's own live MP3: probed in a few frames, not seconds


class Playback(threading.Thread):
    """One entry on air (or about to be): decoder → volume → output, paced in real time.

    Reports the first sound, progress every second and the end to the player, which
    keeps them in the spool. ``stop(status)`` ends it within one chunk (50 ms)."""

    def __init__(self, player: Player, entry: Entry, *, at: float, offset: float):
        super().__init__(name=f"playback-{entry.key}", daemon=True)
        self.player = player
        self.entry = entry
        self.at = at  # server clock
        self.offset = offset
        self.stopping = threading.Event()
        self.stop_status = "interrupted"
        self.stop_final = False
        self.proc = None
        self.event_id = ""
        self.started_at = 0.0  # our clock, at the first sound
        self.played = 0.0
        self.done = threading.Event()

    def stop(self, status: str = "interrupted", *, final: bool = False) -> None:
        self.stop_status, self.stop_final = status, final
        self.stopping.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    @property
    def on_air(self) -> bool:
        return bool(self.event_id) and not self.done.is_set()

    # -- the thread ------------------------------------------------------------------------

    def run(self) -> None:
        status, final = "completed", True
        output = self.player.output
        try:
            sources = self.player.sources(self.entry, self.stopping)
            if self.stopping.is_set():
                status, final = self.stop_status, self.stop_final
                return
            if not sources:
                raise AudioError("nothing playable in this entry (media missing)")
            output.open()
            try:
                finished = self._play(sources, output)
            finally:
                output.close()
            if not finished:
                status, final = self.stop_status, self.stop_final
        except (AudioError, OSError, ChecksumMismatch, ProtocolError, Unreachable) as exc:
            logger.error("entry %s (%s) failed: %s", self.entry.key, self.entry.programme, exc)
            self.player.note_error(str(exc))
            status, final = ("interrupted", False) if self.event_id else ("failed", True)
        finally:
            self._end(status, final)

    def _skip(self, sources: list[Source]) -> tuple[int, float]:
        """Which source and where in it the entry's offset falls."""
        remaining = self.offset
        for index, source in enumerate(sources):
            if source.stream or source.duration is None or remaining < source.duration:
                return index, max(0.0, remaining)
            remaining -= source.duration
        return len(sources), 0.0

    def _play(self, sources: list[Source], output: Output) -> bool:
        index, inner = self._skip(sources)
        player = self.player
        clock = player.client.server_now
        started_mono = None
        written = 0
        next_progress = 0.0
        for number, source in enumerate(sources[index:], start=index):
            while True:  # a stream reconnects until the entry's end
                self.proc = decoder(
                    player.ffmpeg, source.location, offset=inner, stream=source.stream,
                    live=source.live,
                )  # fmt: skip
                if self.stopping.is_set():
                    self.proc.kill()
                first = self.proc.stdout.read(CHUNK)
                if started_mono is None:
                    # Prepared: wait for the entry's start on the server's clock.
                    while (delay := self.at - clock()) > 0 and not self.stopping.is_set():
                        self.stopping.wait(min(delay, 0.05))
                    if self.stopping.is_set():
                        return False
                    started_mono = time.monotonic()
                    self.started_at = time.time()
                    self.event_id = player.playback_started(self)
                output.mark(
                    "start", entry=self.entry.key, part=number, offset_s=f"{inner:.3f}",
                    source=source.label or Path(source.location).name,
                )  # fmt: skip
                chunk = first
                while chunk:
                    chunk = apply_volume(chunk, player.volume)
                    if not pace(started_mono, written, output.lead, self.stopping):
                        output.mark("stop", entry=self.entry.key, part=number)
                        return False
                    output.write(chunk)
                    written += len(chunk)
                    self.played = written / BYTES_PER_SECOND
                    if self.played >= next_progress:
                        player.spool.progress(self.event_id, self.played)
                        next_progress = self.played + 1.0
                    if source.stream and clock() >= self.entry.end:
                        break
                    chunk = self.proc.stdout.read(CHUNK)
                self.proc.stdout.close()
                err = self.proc.stderr.read().decode(errors="replace").strip()
                code = self.proc.wait()
                if self.stopping.is_set():
                    output.mark("stop", entry=self.entry.key, part=number)
                    return False
                if not source.stream:
                    if code != 0:
                        raise AudioError(f"decoder failed on {source.label}: {err[-300:]}")
                    break
                if clock() >= self.entry.end - 0.5:
                    break
                logger.warning("stream %s dropped (%s); reconnecting", source.location, err[-200:])
                if self.stopping.wait(1.0):
                    return False
                inner = 0.0
            output.mark("end", entry=self.entry.key, part=number)
            inner = 0.0
        # Let the output play what it was given ahead of the clock before reporting.
        if started_mono is not None:
            pace(started_mono, written, 0.0, self.stopping)
        return True

    def _end(self, status: str, final: bool) -> None:
        self.player.playback_ended(self, status=status, final=final)
        self.done.set()
        self.player.wake.set()
