"""The feeder of one live broadcast: a small process with no Django in it, so that it is
streaming within a fraction of a second of the start (booting Django takes seconds on a
busy server, and every one of them would be silence on the loudspeakers).

``python -m broadcast.live.stream CONFIG.json``. It reads the browser's recording as the
web processes append it to ``source`` (any web process may receive a slice: the file is the
hand-over) and pipes it into ffmpeg (the argument list built by
``broadcast.live.feeder.ffmpeg_args``), which sends MP3 64 kbps to the broadcast's Icecast
mount and writes the same MP3 to the archive. It ends when the ``stop`` flag appears (the
speaker stopped: ``live_stop``), when no byte arrived for ``timeout`` seconds (a closed tab,
a lost network) or when ffmpeg gives up on the input (garbage). Then it runs ``end_argv``
(``manage.py live_end <id> <reason>``): the broadcast ends everywhere and is archived.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.02
READ_BYTES = 65536


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _write(proc: subprocess.Popen, data: bytes) -> bool:
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
        return True
    except OSError:
        return False


def run(cfg: dict) -> str:
    """Stream until the end; returns the reason (``stopped``, ``source_lost``,
    ``source_invalid``)."""
    source, stop_flag = Path(cfg["source"]), Path(cfg["stop"])
    with open(cfg["log"], "ab") as log:
        proc = subprocess.Popen(  # noqa: S603
            cfg["ffmpeg_argv"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )  # fmt: skip
    reason, fed = "stopped", 0
    last_data = time.monotonic()
    with open(source, "rb") as fh:
        while True:
            if stop_flag.exists():
                rest = fh.read()
                if rest:
                    _write(proc, rest)
                break
            if proc.poll() is not None:
                reason = "source_invalid"
                break
            data = fh.read(READ_BYTES)
            if data:
                fed += len(data)
                last_data = time.monotonic()
                if not _write(proc, data):
                    reason = "source_invalid"
                    break
                continue
            if time.monotonic() - last_data > cfg["timeout"]:
                reason = "source_lost"
                break
            time.sleep(POLL_SECONDS)
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    if code != 0 and reason == "stopped" and not stop_flag.exists():
        reason = "source_invalid"
    print(f"fed {fed} bytes; ffmpeg exit {code}; {reason}", flush=True)
    return reason


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    reason = run(cfg)
    return subprocess.run([*cfg["end_argv"], reason], check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
