"""Media test helpers: real sources made by ffmpeg's lavfi, and independent checks of what
comes out (a decode with PyAV, a loudness reading with ffmpeg's ebur128 parsed here, not by
the code under test)."""

import re
from pathlib import Path

import av

from media.ffmpeg import run_ffmpeg


def lavfi(path: Path, source: str, *, filters: str = "", args=()) -> Path:
    """Render a lavfi ``source`` (with optional ``filters``) to ``path``."""
    cmd = ["-f", "lavfi", "-i", source]
    if filters:
        cmd += ["-af", filters]
    run_ffmpeg([*cmd, *args, str(path)], timeout=120)
    return path


def loudness(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of ``path``'s first audio stream."""
    proc = run_ffmpeg(
        ["-nostats", "-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose",
         "-f", "null", "-"],
        timeout=120,
    )  # fmt: skip
    summary = proc.stderr[proc.stderr.rindex("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1)
    return {"I": i, "TP": float(peak)}


def decoded(path: Path) -> dict:
    """Decode every audio frame (as a listener's player would) and describe the stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        samples = sum(frame.samples for frame in container.decode(stream))
        return {
            "format": container.format.name,
            "codec": ctx.name,
            "channels": ctx.channels,
            "sample_rate": ctx.sample_rate,
            "seconds": samples / ctx.sample_rate,
            "metadata": dict(container.metadata),
        }


def video_info(path: Path) -> dict:
    """Decode every picture; describe the video and audio streams."""
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        info = {
            "format": container.format.name,
            "codec": v.codec_context.name,
            "profile": v.codec_context.profile,
            "pix_fmt": v.codec_context.pix_fmt,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "fps": float(v.average_rate) if v.average_rate else None,
            "audio": None,
        }
        frames = sum(1 for _ in container.decode(v))
        info["frames"] = frames
    with av.open(str(path)) as container:
        if container.streams.audio:
            a = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(a))
            info["audio"] = {
                "codec": a.codec_context.name,
                "sample_rate": a.codec_context.sample_rate,
                "channels": a.codec_context.channels,
                "seconds": samples / a.codec_context.sample_rate,
            }
    return info
