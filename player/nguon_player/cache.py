"""The audio cache: files named by their SHA-256, complete or absent.

A download goes to ``partial/<sha256>`` (resumed with ``Range`` after a restart), is
checked (size and SHA-256 announced by the timeline), flushed to disk, then renamed into
``media/<sha256>``: a rename is atomic, so ``media/`` never holds a partial or corrupt
file, whatever moment the process is killed at. Old files are evicted when the cache is
over its size budget, never a file the timeline still needs.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from .protocol import ChecksumMismatch, DeviceClient, ProtocolError, Unreachable

logger = logging.getLogger("nguon_player.cache")
CHUNK = 16384


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class MediaCache:
    def __init__(self, root: Path, *, budget_bytes: int, rate_limit: int = 0):
        self.root = Path(root)
        self.media = self.root / "media"
        self.partial = self.root / "partial"
        self.tts = self.root / "tts"
        for folder in (self.media, self.partial, self.tts):
            folder.mkdir(parents=True, exist_ok=True)
        self.budget = budget_bytes
        self.rate_limit = rate_limit  # bytes per second, 0 = as fast as the link goes
        for stale in self.media.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, sha256: str) -> Path:
        return self.media / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def download(self, client: DeviceClient, part: dict) -> Path:
        """Fetch ``part`` (an audio part of the timeline) into the cache unless there.
        Raises Unreachable (try later), ProtocolError or ChecksumMismatch."""
        sha256, size = part["sha256"], part.get("size")
        final = self.path(sha256)
        if final.exists():
            return final
        partial = self.partial / sha256
        offset = partial.stat().st_size if partial.exists() else 0
        if size is not None and offset > size:
            partial.unlink()
            offset = 0
        if size is None or offset < size:
            response, resumed = client.media(part["url"], offset=offset, etag=f'"{sha256}"')
            mode = "ab" if resumed else "wb"
            logger.info("downloading %s from byte %d", sha256[:12], offset if resumed else 0)
            started, got = time.monotonic(), 0
            try:
                with open(partial, mode) as fh:
                    while chunk := response.read(CHUNK):
                        fh.write(chunk)
                        got += len(chunk)
                        if self.rate_limit:
                            ahead = got / self.rate_limit - (time.monotonic() - started)
                            if ahead > 0:
                                time.sleep(ahead)
                    fh.flush()
                    os.fsync(fh.fileno())
            except (OSError, http.client.HTTPException) as exc:
                raise Unreachable(f"download {part['url']}: {exc!r}") from exc
            finally:
                response.close()
        digest = hashlib.sha256()
        total = 0
        with open(partial, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
        if digest.hexdigest() != sha256 or (size is not None and total != size):
            partial.unlink(missing_ok=True)  # start again from zero next time
            raise ChecksumMismatch(f"{part['url']}: got {total} bytes, {digest.hexdigest()}")
        os.replace(partial, final)
        _fsync_dir(self.media)
        logger.info("cached %s (%d bytes)", sha256[:12], total)
        return final

    def tts_file(self, text: str, voice: str, speed: float, command: tuple[str, ...]) -> Path:
        """Speech for a TTS part the server has not rendered (made once, kept like media)."""
        key = hashlib.sha256(f"{voice}|{speed}|{text}".encode()).hexdigest()
        final = self.tts / f"{key}.wav"
        if final.exists():
            return final
        if not command or not shutil.which(command[0]):
            raise FileNotFoundError(f"no speech engine ({' '.join(command) or 'none'})")
        argv = list(command)
        if voice and "-v" in argv:
            argv[argv.index("-v") + 1] = voice
        if speed and speed != 1.0 and argv[0].startswith("espeak"):
            argv += ["-s", str(int(175 * speed))]
        wav = subprocess.run(  # noqa: S603 - argv from the config, no shell
            [*argv, text], capture_output=True, timeout=120, check=True
        ).stdout
        atomic_write(final, wav)
        return final

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.media.iterdir() if p.is_file())

    def evict(self, keep: set[str]) -> int:
        """Remove the least recently used files not in ``keep`` (sha256s the timeline
        needs) until the cache fits its budget. Returns the bytes freed."""
        files = [(p.stat(), p) for p in self.media.iterdir() if p.is_file()]
        total = sum(st.st_size for st, _p in files)
        freed = 0
        for st, path in sorted(files, key=lambda f: max(f[0].st_atime, f[0].st_mtime)):
            if total - freed <= self.budget:
                break
            if path.name in keep:
                continue
            path.unlink(missing_ok=True)
            freed += st.st_size
            logger.info("evicted %s (%d bytes) to stay under the cache budget", path.name[:12],
                        st.st_size)  # fmt: skip
        if total - freed > self.budget:
            logger.warning(
                "the next %d bytes of audio exceed the cache budget of %d bytes",
                total - freed,
                self.budget,
            )
        return freed

    def touch(self, sha256: str) -> None:
        try:
            os.utime(self.path(sha256))
        except OSError:
            pass


__all__ = ["MediaCache", "atomic_write", "ChecksumMismatch", "ProtocolError", "Unreachable"]
