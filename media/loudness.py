"""EBU R128 / ITU-R BS.1770 loudness with ffmpeg's ``ebur128`` filter.

One decode measures integrated loudness (I), loudness range (LRA) and, where asked, true
peak (TP); the same decode can measure several filter branches at once
(``measure_branches``), which is how the speech-processed loudspeaker branch is measured
without a second read of the file. Each branch's filter chain is its own ``-filter_complex``
graph fed by the one decoder, so ffmpeg (≥ 7: one thread per filter graph) runs them in
parallel.

True peak oversamples the signal four times and costs about as much as the rest of the
measurement; a branch measured only for its gain (``peak=False``) skips it.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from .ffmpeg import input_args, run_ffmpeg

# ebur128 reports -70 LUFS (its absolute gate) for silence.
SILENCE_LUFS = -69.5

_SUMMARY = re.compile(
    r"\[ebur128@m(?P<idx>\d+) @ [^\]]+\] Summary:\s*"
    r".*?I:\s+(?P<i>-?[\d.]+|-?inf|nan) LUFS"
    r".*?LRA:\s+(?P<lra>-?[\d.]+|-?inf|nan) LU"
    # The true-peak block is optional (peak=none): never look for it past the next line
    # that starts with "[" (another summary, another filter's message).
    r"(?:(?:(?!\n\[).)*?Peak:\s+(?P<tp>-?[\d.]+|-?inf|nan) dBFS)?",
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
    """Every ``ebur128@m<N>`` summary in ``stderr``, by N (graphs print their summaries in
    whatever order they close, so each instance is named)."""
    found = {}
    for match in _SUMMARY.finditer(stderr):
        integrated = _num(match["i"])
        found[int(match["idx"])] = Loudness(
            integrated=-70.0 if integrated is None else integrated,
            lra=_num(match["lra"]) or 0.0,
            true_peak=_num(match["tp"]),
        )
    return found


def ebur128_filter(index: int = 0, *, peak: bool = True) -> str:
    # framelog=verbose keeps the per-100 ms lines out of the info-level log; the instance
    # name ``m<index>`` tells the summaries apart.
    return f"ebur128@m{index}=peak={'true' if peak else 'none'}:framelog=verbose"


def measure(path, *, stream: str = "0:a:0", timeout: float = 600, peak: bool = True,
            container: str | None = None) -> Loudness:  # fmt: skip
    """Integrated loudness, LRA and (``peak``) true peak of one audio stream of ``path``
    (read with the demuxer ``container`` when given)."""
    found = measure_branches(path, {"source": ""}, stream=stream, timeout=timeout,
                             peak=None if peak else set(), container=container)  # fmt: skip
    return found["source"]


def measure_branches(
    path,
    branches: dict[str, str],
    *,
    stream: str = "0:a:0",
    timeout: float = 600,
    picture: tuple[str, list[str]] | None = None,
    peak: set[str] | None = None,
    container: str | None = None,
) -> dict[str, Loudness]:
    """Measure several filter chains of one audio stream in a single decode.

    ``branches`` maps a name to a filter chain ("" for the signal as it is). The decoder
    feeds several filter graphs, which ffmpeg runs in parallel threads: one graph per
    non-empty chain, one for ``picture`` (an extra branch: filter chain, output arguments;
    the waveform is drawn here, since it needs the whole file before it can be written), and
    one *meter* graph holding every ``ebur128``. The meters share one graph on purpose: a
    graph prints its filters' summaries from its own thread when it closes, and summaries
    printed by two threads at once can interleave; in one graph they come out one by one.

    ``peak`` names the branches whose true peak is wanted (None: all); the others report
    ``true_peak=None``. ``container`` is the demuxer ``path`` is read with.
    """
    names = list(branches)
    args = ["-nostats", *input_args(path, container=container)]
    meters = []
    for i, name in enumerate(names):
        chain = branches[name]
        source = f"[{stream}]"
        if chain:
            args += ["-filter_complex", f"[{stream}]{chain}[c{i}]"]
            source = f"[c{i}]"
        want_peak = peak is None or name in peak
        meters.append(f"{source}{ebur128_filter(i, peak=want_peak)}[e{i}]")
    if picture:
        args += ["-filter_complex", f"[{stream}]{picture[0]}[pic]"]
    args += ["-filter_complex", ";".join(meters)]
    for i in range(len(names)):
        args += ["-map", f"[e{i}]", "-f", "null", "-"]
    if picture:
        args += ["-map", "[pic]", *picture[1]]
    proc = run_ffmpeg(["-loglevel", "info", *args], timeout=timeout)
    summaries = parse_summaries(proc.stderr)
    if set(summaries) != set(range(len(names))):
        from .ffmpeg import FFmpegError

        raise FFmpegError("ebur128 gave no summary", stderr=proc.stderr[-4000:], returncode=0)
    return {name: summaries[i] for i, name in enumerate(names)}


def gain_for(measured: Loudness, target: float, *, max_gain_db: float) -> float:
    """The linear gain (dB) that moves ``measured`` to ``target``, capped at ``max_gain_db``."""
    if measured.silent:
        return 0.0
    return min(target - measured.integrated, max_gain_db)
