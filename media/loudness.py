"""EBU R128 / ITU-R BS.1770 loudness with ffmpeg's ``ebur128`` filter.

One decode measures integrated loudness (I), loudness range (LRA) and true peak (TP); the
same decode can measure several filter branches at once (``measure_branches``), which is
how the speech-processed loudspeaker branch is measured without a second read of the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from .ffmpeg import run_ffmpeg

# ebur128 reports -70 LUFS (its absolute gate) for silence.
SILENCE_LUFS = -69.5

_SUMMARY = re.compile(
    r"\[Parsed_ebur128_(?P<idx>\d+) @ [^\]]+\] Summary:\s*"
    r".*?I:\s+(?P<i>-?[\d.]+|-?inf|nan) LUFS"
    r".*?LRA:\s+(?P<lra>-?[\d.]+|-?inf|nan) LU"
    r"(?:.*?Peak:\s+(?P<tp>-?[\d.]+|-?inf|nan) dBFS)?",
    re.S,
)


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    lra: float  # LU
    true_peak: float | None  # dBTP

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.integrated) or self.integrated <= SILENCE_LUFS

    def as_dict(self) -> dict:
        return {k: (None if v is None or not math.isfinite(v) else round(v, 2)) for k, v in
                asdict(self).items()}  # fmt: skip


def _num(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_summaries(stderr: str) -> dict[int, Loudness]:
    """Every ``ebur128`` summary in ``stderr``, by filter instance number."""
    found = {}
    for match in _SUMMARY.finditer(stderr):
        integrated = _num(match["i"])
        found[int(match["idx"])] = Loudness(
            integrated=-70.0 if integrated is None else integrated,
            lra=_num(match["lra"]) or 0.0,
            true_peak=_num(match["tp"]),
        )
    return found


def ebur128_filter() -> str:
    # framelog=verbose keeps the per-100 ms lines out of the info-level log.
    return "ebur128=peak=true:framelog=verbose"


def measure(path, *, stream: str = "0:a:0", timeout: float = 600) -> Loudness:
    """Integrated loudness, LRA and true peak of one audio stream of ``path``."""
    return measure_branches(path, {"source": ""}, stream=stream, timeout=timeout)["source"]


def measure_branches(
    path,
    branches: dict[str, str],
    *,
    stream: str = "0:a:0",
    timeout: float = 600,
    picture: tuple[str, list[str]] | None = None,
) -> dict[str, Loudness]:
    """Measure several filter chains of one audio stream in a single decode.

    ``branches`` maps a name to a filter chain ("" for the signal as it is); the decoded
    audio is split once and each branch ends in its own ``ebur128``. ``picture`` is an
    optional extra branch (filter chain, output arguments) fed by the same decode: the
    waveform is drawn here, since it needs the whole file before it can be written.
    """
    names = list(branches)
    count = len(names) + (1 if picture else 0)
    parts = [f"[{stream}]asplit={count}" + "".join(f"[m{i}]" for i in range(count))]
    if count == 1:
        parts = [f"[{stream}]anull[m0]"]
    for i, name in enumerate(names):
        chain = branches[name]
        prefix = f"{chain}," if chain else ""
        parts.append(f"[m{i}]{prefix}{ebur128_filter()}[e{i}]")
    if picture:
        parts.append(f"[m{len(names)}]{picture[0]}[pic]")
    graph = ";".join(parts)
    args = ["-nostats", "-i", str(path), "-filter_complex", graph]
    for i in range(len(names)):
        args += ["-map", f"[e{i}]", "-f", "null", "-"]
    if picture:
        args += ["-map", "[pic]", *picture[1]]
    proc = run_ffmpeg(["-loglevel", "info", *args], timeout=timeout)
    summaries = parse_summaries(proc.stderr)
    # Instances are numbered in graph order; keep only the ebur128 ones, in order.
    ordered = [summaries[k] for k in sorted(summaries)]
    if len(ordered) != len(names):
        from .ffmpeg import FFmpegError

        raise FFmpegError("ebur128 gave no summary", stderr=proc.stderr[-4000:], returncode=0)
    return dict(zip(names, ordered, strict=True))


def gain_for(measured: Loudness, target: float, *, max_gain_db: float) -> float:
    """The linear gain (dB) that moves ``measured`` to ``target``, capped at ``max_gain_db``."""
    if measured.silent:
        return 0.0
    return min(target - measured.integrated, max_gain_db)
