"""Helpers of the live tests (imported by tests and conftest alike)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from media.ffmpeg import ffmpeg_binary


class Listener(threading.Thread):
    """A device-like listener: ffmpeg pulling a mount as PCM (48 kHz mono) until stopped;
    it retries until the mount exists."""

    def __init__(self, url: str, out: Path):
        super().__init__(daemon=True)
        self.url, self.out = url, out
        self.stopping = threading.Event()
        self.proc = None
        self.connected_at = None

    def run(self):
        with open(self.out, "ab") as fh:
            while not self.stopping.is_set():
                self.proc = subprocess.Popen(
                    [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-fflags", "+nobuffer",
                     "-i", self.url, "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                while True:
                    chunk = self.proc.stdout.read(4800)
                    if not chunk:
                        break
                    if self.connected_at is None:
                        self.connected_at = time.monotonic()
                    fh.write(chunk)
                self.proc.wait()
                if self.connected_at is not None:
                    return  # the stream ended
                self.stopping.wait(0.1)

    def stop(self):
        self.stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
        self.join(10)
