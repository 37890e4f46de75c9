"""The one place ffmpeg is run: argument lists, never a shell; a timeout; typed errors."""

import os
import shutil
import subprocess
from functools import lru_cache

from django.conf import settings


class FFmpegError(Exception):
    """ffmpeg failed; ``stderr`` holds the tail of what it printed."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode

    def __str__(self) -> str:
        tail = self.stderr.strip().splitlines()[-5:]
        return f"{self.args[0]} (exit {self.returncode}): " + " | ".join(tail)


@lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    """``FFMPEG_PATH``, else ``ffmpeg`` on PATH, else the one bundled with imageio-ffmpeg."""
    configured = getattr(settings, "FFMPEG_PATH", "") or os.environ.get("FFMPEG_PATH", "")
    if configured:
        return configured
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (no shell). Raises FFmpegError on failure or timeout."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(
            f"ffmpeg timed out after {timeout}s", stderr=str(exc.stderr or "")
        ) from exc
    if proc.returncode != 0:
        raise FFmpegError("ffmpeg failed", stderr=proc.stderr[-4000:], returncode=proc.returncode)
    return proc
