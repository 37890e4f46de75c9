"""Plans the ffmpeg commands that turn one source into every requested rendition.

Measure once: one decode of the source measures, through ``ebur128``, the loudness of each
distinct *measure chain* (the channel down-mix and pre-filters a profile applies before its
gain), see :func:`measure_chains`.

Decode once: :func:`plan_transcode` builds ONE ffmpeg command with one input and one
decoder per stream; every profile's branch is its own ``-filter_complex`` graph reading the
decoded audio (``[0:a:0]``) or picture (``[0:v:0]``). ffmpeg (≥ 7) runs each graph in its
own thread and hands every graph the same decoded frames, so the branches are filtered in
parallel, where one graph with ``asplit`` would run them all in one thread. Each audio
branch gets its own linear gain, dynamics and a peak limiter, each picture branch its own
scale and frame rate; every branch ends in its own encoder (own thread) and output file.

Nothing here touches the database: the functions take data and return argument lists, so
the benchmark runs exactly the commands the pipeline runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .ffmpeg import input_args
from .loudness import Loudness, gain_for, measure_branches
from .profiles import Profile

# Peak limiter ceiling below the profile's true-peak limit (dB): the limiter sees samples,
# and lossy encoders add overshoot of their own.
LIMITER_MARGIN_LOSSY = 1.0
LIMITER_MARGIN_PCM = 0.4
# A branch whose source true peak plus gain stays this far below the limiter's ceiling
# gets no limiter (it could never act); the margin covers resampling and measuring error.
LIMITER_SKIP_HEADROOM = 0.5


@dataclass(frozen=True)
class SourceInfo:
    """What the planner needs to know about the source (from the stored probe)."""

    duration: float
    has_audio: bool
    channels: int = 2
    has_video: bool = False
    frame_rate: float | None = None
    container: str | None = None  # the demuxer the source was probed as

    @classmethod
    def from_probe(cls, probe: dict) -> SourceInfo:
        return cls(
            duration=float(probe.get("duration") or 0.0),
            has_audio=bool(probe.get("audio_codec")),
            channels=int(probe.get("channels") or 2),
            has_video=bool(probe.get("video_codec")),
            frame_rate=probe.get("frame_rate"),
            container=probe.get("container") or None,
        )


def out_channels(profile: Profile, source: SourceInfo) -> int:
    return profile.channels or max(1, min(source.channels, 2))


def measure_chain(profile: Profile, source: SourceInfo) -> str:
    """The filters before the gain: down-mix to the output's channels, linear pre-filters."""
    parts = []
    channels = out_channels(profile, source)
    if channels < source.channels:
        parts.append(f"aresample=ochl={'mono' if channels == 1 else 'stereo'}")
    if profile.pre_filters:
        parts.append(profile.pre_filters)
    return ",".join(parts)


# The demuxer each output is read back with (by its suffix): our own files are opened with
# the format they were written in, like uploads are (``media.probe.open_media``).
OUTPUT_DEMUXERS = {
    "mp3": "mp3",
    "wav": "wav",
    "m4a": "mov",
    "mp4": "mov",
    "jpg": "jpeg_pipe",
    "png": "png_pipe",
}


def output_demuxer(path) -> str | None:
    return OUTPUT_DEMUXERS.get(Path(path).suffix.lstrip(".").lower())


WAVEFORM_RATE = 2000  # envelope samples per second fed to the waveform drawing


def envelope_path(path: Path) -> Path:
    return path.with_suffix(".s16")


def waveform_picture(profile: Profile, path: Path) -> tuple[str, list[str]]:
    """The waveform branch of the measuring decode: a mono 2 kHz envelope streamed to a raw
    file beside ``path``; :func:`draw_waveform` turns it into the PNG afterwards.

    (A picture output that appears only at end of stream, such as ``showwavespic``, makes
    ffmpeg hold the other branches' frames back: an hour of audio cost a gigabyte.)
    """
    chain = f"aresample={WAVEFORM_RATE}:ochl=mono,aformat=sample_fmts=s16"
    return chain, ["-map_metadata", "-1", "-f", "s16le", str(envelope_path(path))]


def draw_waveform(profile: Profile, path: Path) -> Path:
    """Draw the PNG from the envelope: peak per column on a cube-root amplitude scale, which
    keeps a quiet recording visible without knowing its gain."""
    import array
    import sys

    from PIL import Image, ImageDraw

    raw = envelope_path(path)
    samples = array.array("h")
    samples.frombytes(raw.read_bytes()[: (raw.stat().st_size // 2) * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    width, height = (int(x) for x in profile.size.split("x"))
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    middle = (height - 1) / 2
    n = len(samples)
    for x in range(width):
        chunk = samples[x * n // width : max((x + 1) * n // width, x * n // width + 1)]
        peak = max(max(chunk, default=0), -min(chunk, default=0)) / 32768 if chunk else 0.0
        half = max(0.5, (peak ** (1 / 3)) * middle)
        draw.line([(x, middle - half), (x, middle + half)], fill=profile.colour)
    image.save(path, format="PNG", optimize=True)
    raw.unlink(missing_ok=True)
    return path


def measure_chains(
    source_path,
    profiles: list[Profile],
    source: SourceInfo,
    *,
    timeout: float,
    waveform: Branch | None = None,
) -> dict[str, Loudness]:
    """Loudness of the source as each distinct measure chain hears it, in one decode (which
    also draws ``waveform``, if given).

    The key ``""`` is the source as it is (stored as the asset's loudness).
    """
    chains = {""}
    for profile in profiles:
        if profile.has_audio:
            chains.add(measure_chain(profile, source))
    ordered = sorted(chains)
    picture = waveform_picture(waveform.profile, waveform.path) if waveform else None
    # True peak (4× oversampling, about half of a meter's cost) only for the source as it
    # is: it is stored, and it tells which branches' limiters can never act. The processed
    # chains are measured for their gain, which needs I alone.
    return measure_branches(source_path, {c: c for c in ordered}, timeout=timeout,
                            picture=picture, peak={""}, container=source.container)  # fmt: skip


@dataclass
class Branch:
    profile: Profile
    path: Path
    gain_db: float | None = None


@dataclass
class Plan:
    args: list[str]
    branches: list[Branch] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, Path]:
        return {b.profile.name: b.path for b in self.branches}


def _ceiling_db(profile: Profile) -> float:
    margin = LIMITER_MARGIN_PCM if profile.codec.startswith("pcm") else LIMITER_MARGIN_LOSSY
    return (profile.true_peak if profile.true_peak is not None else -1.0) - margin


def _limiter(profile: Profile, trim_db: float = 0.0) -> str:
    limit = min(1.0, max(0.0625, 10 ** ((_ceiling_db(profile) - trim_db) / 20)))
    return f"alimiter=limit={limit:.5f}:level=false:latency=true:attack=5:release=60"


def needs_limiter(profile: Profile, source: SourceInfo, ref: Loudness, gain_db: float) -> bool:
    """False only when the limiter provably never acts: the branch is the source as it is
    (no down-mix, no pre-filters, no dynamics), whose true peak was measured, and that peak
    plus the gain stays ``LIMITER_SKIP_HEADROOM`` below the ceiling. A limiter that never
    acts passes the samples unchanged, so leaving it out changes nothing but the cost."""
    if measure_chain(profile, source) or profile.dynamics or ref.true_peak is None:
        return True
    peak = ref.true_peak + gain_db + profile.dynamics_makeup
    return peak + LIMITER_SKIP_HEADROOM > _ceiling_db(profile)


def _audio_branch(
    profile: Profile, source: SourceInfo, gain_db: float, ref: Loudness, trim_db: float | None
) -> str:
    """``trim_db`` (not None: a corrective pass after the output's true peak went over its
    ceiling) forces the limiter and lowers its ceiling by that much."""
    parts = [measure_chain(profile, source)]
    if profile.sample_rate:
        parts.append(f"aresample={profile.sample_rate}")
    parts.append(f"volume={gain_db + profile.dynamics_makeup:.3f}dB")
    if profile.dynamics:
        parts.append(profile.dynamics)
    if trim_db is not None or needs_limiter(profile, source, ref, gain_db):
        parts.append(_limiter(profile, trim_db or 0.0))
    return ",".join(p for p in parts if p)


def _scale(profile: Profile) -> str:
    s, long = profile.short_side or 1080, profile.long_side or 1920
    w = f"if(gte(iw\\,ih)\\,min(iw\\,{long})\\,min(iw\\,{s}))"
    h = f"if(gte(iw\\,ih)\\,min(ih\\,{s})\\,min(ih\\,{long}))"
    return f"scale=w={w}:h={h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1"


def _video_branch(profile: Profile, source: SourceInfo) -> str:
    parts = []
    if profile.fps:
        parts.append(f"fps={profile.fps}")
    elif profile.max_fps and (source.frame_rate or 0) > profile.max_fps + 0.01:
        parts.append(f"fps={profile.max_fps}")
    parts.append(_scale(profile))
    parts.append("format=yuv420p")
    return ",".join(parts)


def plan_transcode(
    source_path,
    profiles: list[Profile],
    source: SourceInfo,
    measured: dict[str, Loudness],
    workdir: Path,
    *,
    max_gain_db: float = 30.0,
    metadata: dict[str, str] | None = None,
    gain_adjust: dict[str, float] | None = None,
    ceiling_trim: dict[str, float] | None = None,
) -> Plan:
    """One ffmpeg command producing every profile in ``profiles`` from one decode: one
    input, one decoder per stream, one filter graph per branch.

    ``gain_adjust`` moves a branch's gain (dB); ``ceiling_trim`` lowers a branch's limiter
    ceiling (dB) and forces its limiter (corrective passes, ``media.processing``)."""
    gain_adjust = gain_adjust or {}
    ceiling_trim = ceiling_trim or {}
    metadata = metadata or {}
    graph: list[str] = []
    outputs: list[list[str]] = []
    branches: list[Branch] = []

    audio_users = [p for p in profiles if source.has_audio and p.type in ("audio", "video")]
    waveform: list[Profile] = []  # drawn by the measuring decode (``waveform_picture``)
    video_users = [p for p in profiles if source.has_video and p.type in ("video", "poster")]

    # One graph per branch, each reading the one decoded stream (see the module docstring).
    a_labels: dict[str, str] = {}
    gains: dict[str, float] = {}
    for profile in audio_users + waveform:
        ref = measured.get(measure_chain(profile, source)) or measured[""]
        gain = gain_for(ref, profile.target, max_gain_db=max_gain_db)
        gain = min(gain + gain_adjust.get(profile.name, 0.0), max_gain_db)
        gains[profile.name] = gain
        out = "o_" if profile.type == "audio" else "va_"
        chain = _audio_branch(profile, source, gain, ref, ceiling_trim.get(profile.name))
        graph.append(f"[0:a:0]{chain}[{out}{profile.name}]")
        a_labels[profile.name] = f"{out}{profile.name}"

    for profile in video_users:
        if profile.type == "poster":
            at = max(0.0, source.duration * profile.at)
            graph.append(
                f"[0:v:0]select='gte(t\\,{at:.3f})',{_scale(profile)},"
                f"thumbnail=n=12,format=yuvj420p[o_{profile.name}]"
            )
        else:
            graph.append(f"[0:v:0]{_video_branch(profile, source)}[vv_{profile.name}]")

    common = ["-map_metadata", "-1", "-map_chapters", "-1"]
    for profile in profiles:
        path = workdir / f"{profile.name}.{profile.suffix}"
        if profile.type == "audio" and profile.name in a_labels:
            args = ["-map", f"[{a_labels[profile.name]}]", *common, *profile.codec_args]
            args += ["-ac", str(out_channels(profile, source))]
            if profile.sample_rate:
                args += ["-ar", str(profile.sample_rate)]
            if profile.bext:
                for key, value in metadata.items():
                    args += ["-metadata", f"{key}={value}"]
        elif profile.type == "video" and source.has_video:
            args = ["-map", f"[vv_{profile.name}]"]
            if profile.name in a_labels:
                args += ["-map", f"[{a_labels[profile.name]}]", *profile.codec_args]
                args += ["-ac", str(out_channels(profile, source))]
                if profile.sample_rate:
                    args += ["-ar", str(profile.sample_rate)]
            args += [*common, *profile.video_args, "-movflags", "+faststart", "-f", "mp4"]
        elif profile.type == "poster" and source.has_video:
            args = ["-map", f"[o_{profile.name}]", *common, "-frames:v", "1", "-update", "1",
                    "-c:v", "mjpeg", "-q:v", "3", "-f", "image2"]  # fmt: skip
        else:
            continue  # the waveform, or nothing to make it from (a silent video's MP3)
        outputs.append([*args, str(path)])
        branches.append(Branch(profile=profile, path=path, gain_db=gains.get(profile.name)))

    cmd = input_args(source_path, container=source.container)
    for one in graph:
        cmd += ["-filter_complex", one]
    for out in outputs:
        cmd += out
    return Plan(args=cmd, branches=branches)
