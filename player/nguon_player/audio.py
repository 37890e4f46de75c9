"""Sound: ffmpeg decodes every source to one PCM format; an output plays it.

PCM is signed 16-bit little-endian, mono, 48 kHz (96,000 bytes a second), whatever the
source (cached MP3, synthesised speech, a relay stream). Outputs:

- ``alsa[:DEVICE]``: ``aplay`` (alsa-utils), else ffmpeg's ALSA output;
- ``pulse``: ``pacat`` (pulseaudio-utils), else ffmpeg's PulseAudio output;
- ``file:PATH``: appends exactly the PCM that would be played to PATH, in real time, and
  a line per start and end (wall-clock time, byte offset in PATH) to ``PATH.log``;
- ``null``: plays silence to nobody, in real time.

ffmpeg is ``FFMPEG_PATH``, else ``ffmpeg`` on PATH, else the binary in the imageio-ffmpeg
wheel. Children die with the player (Linux ``PR_SET_PDEATHSIG``), even on SIGKILL.
"""

from __future__ import annotations

import array
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

RATE = 48000
CHANNELS = 1
BYTES_PER_SECOND = RATE * CHANNELS * 2
CHUNK = BYTES_PER_SECOND // 20  # 50 ms
PCM_ARGS = ["-vn", "-ac", str(CHANNELS), "-ar", str(RATE), "-f", "s16le"]


class AudioError(Exception):
    """An output or a decoder could not be started."""


def ffmpeg_binary(configured: str = "") -> str:
    """The configured ffmpeg, ``FFMPEG_PATH``, ``ffmpeg`` on PATH, or imageio-ffmpeg's."""
    for candidate in (configured, os.environ.get("FFMPEG_PATH", "")):
        if candidate:
            return candidate
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise AudioError(
            "no ffmpeg: install Debian's ffmpeg, set FFMPEG_PATH, or pip install imageio-ffmpeg"
        ) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(argv, preexec_fn=preexec, **kwargs)  # noqa: S603, PLW1509


def decoder(
    ffmpeg: str, source: str, *, offset: float = 0.0, stream: bool = False, live: bool = False
):
    """An ffmpeg process writing ``source`` as PCM on its stdout, from ``offset`` seconds.
    ``stream``: a network source (reconnects inside ffmpeg on a dropped connection).
    ``live``: the server's live MP3, decoded as soon as the first frames arrive (a live
    voice must not wait for ffmpeg's usual probing of several seconds)."""
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if stream:
        argv += ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "5"]
        argv += ["-rw_timeout", "15000000"]
    if live:
        argv += ["-fflags", "+nobuffer", "-probesize", "1024", "-analyzeduration", "0",
                 "-f", "mp3"]  # fmt: skip
        offset = 0.0  # a live stream is joined where it is now
    if offset > 0.01:
        argv += ["-ss", f"{offset:.3f}"]
    argv += ["-i", source, *PCM_ARGS, "-"]
    return spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)


def decode_all(ffmpeg: str, source: str) -> bytes:
    """The whole PCM of ``source`` (tests and the benchmark compare against it)."""
    proc = subprocess.run(  # noqa: S603
        [ffmpeg, "-nostdin", "-loglevel", "error", "-i", source, *PCM_ARGS, "-"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return proc.stdout


def apply_volume(chunk: bytes, volume: int) -> bytes:
    """Scale PCM samples by ``volume`` percent (100: unchanged bytes)."""
    if volume >= 100:
        return chunk
    if volume <= 0:
        return bytes(len(chunk))
    samples = array.array("h")
    samples.frombytes(chunk[: len(chunk) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    factor = volume / 100
    scaled = array.array("h", [int(s * factor) for s in samples])
    if sys.byteorder == "big":
        scaled.byteswap()
    return scaled.tobytes()


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Output:
    """Where PCM goes. ``open()`` before an entry, ``write()`` paced by the caller,
    ``close()`` after; ``mark()`` notes events (the file output logs them)."""

    lead = 0.05  # seconds of audio written ahead of the clock
    kind = "null"

    def open(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        pass

    def mark(self, event: str, **fields) -> None:
        pass

    def close(self) -> None:
        pass


class NullOutput(Output):
    pass


class FileOutput(Output):
    kind = "file"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = self.path.with_name(self.path.name + ".log")
        self._lock = threading.Lock()
        self._pcm = open(self.path, "ab", buffering=0)  # noqa: SIM115 - lives with the player
        self._log = open(self.log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def write(self, data: bytes) -> None:
        with self._lock:
            self._pcm.write(data)

    def mark(self, event: str, **fields) -> None:
        with self._lock:
            offset = self._pcm.tell()
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            self._log.write(f"{_stamp()} {event} offset={offset} {extra}\n")


class PipeOutput(Output):
    """A player process reading PCM on stdin (aplay, pacat, or ffmpeg)."""

    lead = 0.25

    def __init__(self, kind: str, argv: list[str]):
        self.kind = kind
        self.argv = argv
        self.proc: subprocess.Popen | None = None

    def open(self) -> None:
        try:
            self.proc = spawn(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise AudioError(f"{self.argv[0]}: {exc}") from exc

    def write(self, data: bytes) -> None:
        if self.proc is None or self.proc.poll() is not None:
            err = self.proc.stderr.read().decode(errors="replace")[-300:] if self.proc else ""
            raise AudioError(f"{self.kind} output stopped: {err.strip()}")
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError as exc:
            raise AudioError(f"{self.kind} output closed its input") from exc

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def make_output(kind: str, target: str, *, ffmpeg: str = "") -> Output:
    """The output named in the config (``alsa[:DEVICE]``, ``pulse``, ``file:PATH``,
    ``null``)."""
    fmt = ["-f", "s16le", "-ar", str(RATE), "-ac", str(CHANNELS)]
    if kind == "null":
        return NullOutput()
    if kind == "file":
        return FileOutput(target)
    if kind == "alsa":
        device = target or "default"
        if shutil.which("aplay"):
            argv = ["aplay", "-q", "-D", device, "-t", "raw", "-f", "S16_LE", "-r", str(RATE),
                    "-c", str(CHANNELS)]  # fmt: skip
        else:
            argv = [ffmpeg_binary(ffmpeg), "-nostdin", "-loglevel", "error", *fmt, "-i", "-",
                    "-f", "alsa", device]  # fmt: skip
        return PipeOutput("alsa", argv)
    if kind == "pulse":
        if shutil.which("pacat"):
            argv = ["pacat", "--raw", "--format=s16le", f"--rate={RATE}",
                    f"--channels={CHANNELS}", "--client-name=nguon-player"]  # fmt: skip
            if target:
                argv.append(f"--device={target}")
        else:
            argv = [ffmpeg_binary(ffmpeg), "-nostdin", "-loglevel", "error", *fmt, "-i", "-",
                    "-f", "pulse", target or "default"]  # fmt: skip
        return PipeOutput("pulse", argv)
    raise AudioError(f"unknown output {kind!r}")


def pace(started: float, written: int, lead: float, stop: threading.Event) -> bool:
    """Wait until ``written`` bytes are due (real time, ``lead`` ahead). False if stopped."""
    due = started + written / BYTES_PER_SECOND - lead
    delay = due - time.monotonic()
    if delay > 0:
        return not stop.wait(delay)
    return not stop.is_set()
