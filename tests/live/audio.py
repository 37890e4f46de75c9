"""Audio helpers for the live tests and benchmarks: Vietnamese speech, the browser's
WebM/Opus, decoding to PCM, and the match between a recording and its source."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from media.ffmpeg import ffmpeg_binary

RATE = 48000
SPEECH = (
    "Thông báo của Ủy ban nhân dân xã Tân Đồng. Sáng mai, tám giờ, tại nhà văn hóa thôn"
    " Tân Lập, trạm y tế tổ chức tiêm chủng cho trẻ em dưới năm tuổi. Đề nghị các gia đình"
    " đưa trẻ đến đúng giờ."
)


def speech_wav(path: Path, text: str = SPEECH) -> Path:
    """``text`` spoken by espeak-ng's Vietnamese voice, as a WAV file."""
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(path), text], check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    return path


def to_webm(source: Path, path: Path, *, lead_in: float = 0.0) -> Path:
    """What a browser's MediaRecorder sends: WebM with Opus, mono 48 kHz (after
    ``lead_in`` seconds of silence)."""
    delay = ["-af", f"adelay={int(lead_in * 1000)}:all=1"] if lead_in else []
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", "-i",
                    str(source), *delay, "-ac", "1", "-ar", "48000", "-c:a", "libopus",
                    "-b:a", "32k", "-f", "webm", str(path)], check=True, timeout=60)  # fmt: skip
    return path


def pcm(path: Path | str) -> np.ndarray:
    """Any audio file or URL decoded to mono 48 kHz float samples."""
    out = subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-i", str(path),
                          "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
                         check=True, capture_output=True, timeout=120).stdout  # fmt: skip
    return pcm_bytes(out)


def pcm_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64)


def _envelope(x: np.ndarray, hop: int = 480) -> np.ndarray:
    n = len(x) // hop
    return np.abs(x[: n * hop]).reshape(n, hop).mean(axis=1)


def best_lag(recording: np.ndarray, source: np.ndarray) -> int:
    """Where ``source`` starts in ``recording`` (samples; may be negative), found on the
    10 ms envelopes, then refined on the samples around it."""
    a, b = _envelope(recording), _envelope(source)
    if len(a) == 0 or len(b) == 0:
        return 0
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(
        np.fft.rfft(a - a.mean(), size) * np.conj(np.fft.rfft(b - b.mean(), size)), size
    )
    coarse = int(np.argmax(corr))
    if coarse > len(a):
        coarse -= size
    coarse *= 480
    best, best_value = coarse, -np.inf
    probe = source[: min(len(source), RATE * 5)]
    for lag in range(coarse - 960, coarse + 961, 4):
        seg = recording[max(0, lag) : max(0, lag) + len(probe)]
        ref = probe[max(0, -lag) : max(0, -lag) + len(seg)]
        if len(seg) < RATE // 2:
            continue
        value = float(np.dot(seg[: len(ref)], ref[: len(seg)]))
        if value > best_value:
            best, best_value = lag, value
    return best


def match(recording: np.ndarray, source: np.ndarray) -> tuple[float, int]:
    """Normalised cross-correlation of ``recording`` and ``source`` after alignment
    (over the part of the source the recording covers), and the lag in samples."""
    lag = best_lag(recording, source)
    seg = recording[max(0, lag) :]
    ref = source[max(0, -lag) :]
    n = min(len(seg), len(ref))
    seg, ref = seg[:n], ref[:n]
    denom = np.sqrt(np.dot(seg, seg) * np.dot(ref, ref))
    return (float(np.dot(seg, ref) / denom) if denom else 0.0), lag
