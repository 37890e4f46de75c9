"""The one place ffmpeg is run: argument lists, never a shell; a timeout; typed errors.

Every ffmpeg child is tied to the process that started it (Linux ``PR_SET_PDEATHSIG``): a
worker killed in the middle of a transcode takes its ffmpeg with it, so no orphan keeps
writing into a work folder that the next attempt is about to use.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings


class FFmpegError(Exception):
    """ffmpeg failed; ``stderr`` holds the tail of what it printed."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode

    @property
    def transient(self) -> bool:
        """True when trying again may help: a timeout, or ffmpeg killed by a signal (the OOM
        killer, a shutdown) rather than refusing its input."""
        return self.returncode is None or self.returncode < 0

    def __str__(self) -> str:
        tail = self.stderr.strip().splitlines()[-5:]
        return f"{self.args[0]} (exit {self.returncode}): " + " | ".join(tail)


# When a list, every command run is appended to it as (thread name, argv): the benchmark
# replays exactly what the pipeline ran (``bench/bench_media.py``).
command_log: list | None = None


def _record(cmd: list[str]) -> None:
    if command_log is not None:
        command_log.append((threading.current_thread().name, list(cmd)))


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """``FFMPEG_PATH``, else ``ffmpeg`` on PATH, else the one bundled with imageio-ffmpeg."""
    configured = settings.FFMPEG_PATH
    if configured:
        return configured
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _preexec():
    return _die_with_parent if os.name == "posix" and os.uname().sysname == "Linux" else None


# Inputs are local files, always: a playlist or session description that slipped through
# would otherwise make ffmpeg connect wherever it points.
PROTOCOL_WHITELIST = "file"


def input_args(path, *, container: str | None = None) -> list[str]:
    """The arguments that open one input: local files only, read with ``container`` (the
    demuxer the file was probed as, e.g. ``mp3`` or ``mov,mp4,m4a,3gp,3g2,mj2``)."""
    args = ["-protocol_whitelist", PROTOCOL_WHITELIST]
    if container:
        args += ["-f", container]
    return [*args, "-i", str(path)]


def local_inputs_only(args: list[str]) -> list[str]:
    """``args`` with ``-protocol_whitelist file`` before every input that has none: the
    guarantee holds for every command run here, whoever built it."""
    out: list[str] = []
    window_start = 0  # where the current input's options begin in ``out``
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-i" and i + 1 < len(args):
            if "-protocol_whitelist" not in out[window_start:]:
                out += ["-protocol_whitelist", PROTOCOL_WHITELIST]
            out += [arg, args[i + 1]]
            window_start = len(out)
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def run_ffmpeg(args: list[str], *, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (no shell). Raises FFmpegError on failure or timeout."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *local_inputs_only(args)]
    _record(cmd)
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            preexec_fn=_preexec(),  # noqa: PLW1509 - only prctl, no Python state
        )
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(
            f"ffmpeg timed out after {timeout}s", stderr=str(exc.stderr or "")
        ) from exc
    if proc.returncode != 0:
        raise FFmpegError("ffmpeg failed", stderr=proc.stderr[-4000:], returncode=proc.returncode)
    return proc


def popen_ffmpeg(args: list[str], **kwargs) -> subprocess.Popen:
    """Start a long-running ffmpeg (a live stream) with ``args``; the caller owns it.
    Inputs stay local (``-protocol_whitelist`` as in :func:`run_ffmpeg`, e.g. ``pipe``);
    outputs may be network URLs (an ``icecast://`` source)."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *local_inputs_only(args)]
    _record(cmd)
    return subprocess.Popen(cmd, preexec_fn=_preexec(), **kwargs)  # noqa: PLW1509, S603


def run_ffmpeg_progress(
    args: list[str],
    *,
    duration: float | None,
    on_progress: Callable[[float], None] | None = None,
    timeout: float = 3600,
    interval: float = 1.0,
) -> subprocess.CompletedProcess:
    """Run ffmpeg reporting progress: ``on_progress(fraction)`` at most every ``interval``
    seconds, from ffmpeg's ``-progress`` stream (``out_time_us`` against ``duration``)."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-nostats",
           "-progress", "pipe:1", *local_inputs_only(args)]  # fmt: skip
    _record(cmd)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            preexec_fn=_preexec(),  # noqa: PLW1509
        )
        timed_out = threading.Event()

        def _kill():
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, _kill)
        timer.daemon = True
        timer.start()
        last = 0.0
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("ascii", "replace").strip()
                if not line.startswith("out_time_us=") or not on_progress or not duration:
                    continue
                try:
                    seconds = int(line.split("=", 1)[1]) / 1e6
                except ValueError:
                    continue
                now = time.monotonic()
                if now - last >= interval:
                    last = now
                    on_progress(max(0.0, min(1.0, seconds / duration)))
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if timed_out.is_set():
        raise FFmpegError(f"ffmpeg timed out after {timeout}s", stderr=stderr[-4000:])
    if returncode != 0:
        raise FFmpegError("ffmpeg failed", stderr=stderr[-4000:], returncode=returncode)
    return subprocess.CompletedProcess(cmd, returncode, "", stderr)
