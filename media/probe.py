"""Probe media by content with PyAV (never by file name), without ever leaving the file.

An upload is opened with an explicit allow-list of demuxers (``ALLOWED_DEMUXERS``) and the
``file`` protocol only, with an I/O timeout. A playlist (HLS ``.m3u8``, DASH, ``concat``), a
session description (``.sdp``) or any other format whose demuxer opens further URLs is
refused before it is parsed, whatever its name: the server never connects anywhere because
of an upload. ``open_media`` is the one way the media app opens a file with PyAV.
"""

import os
from dataclasses import asdict, dataclass, field

import av

# The demuxers an upload may be read with: the accepted audio and video containers
# (``media.services``). Names as libavformat matches them against a demuxer's name list.
ALLOWED_DEMUXERS = ("mp3", "wav", "mov", "ogg", "amr", "flac", "aac", "matroska")
# Nothing but local files, for the upload and anything a demuxer might try to open.
PROTOCOL_WHITELIST = "file"
# Seconds any single open or read may block (a local read takes milliseconds).
IO_TIMEOUT_SECONDS = 5.0


def open_media(source, *, container: str | None = None):
    """``av.open`` for reading ``source`` (a path or a binary file object), limited to the
    allowed demuxers (or exactly ``container``, a demuxer name as probed) and local files."""
    options = {
        "format_whitelist": container or ",".join(ALLOWED_DEMUXERS),
        "protocol_whitelist": PROTOCOL_WHITELIST,
    }
    kwargs = {"format": container} if container else {}
    if hasattr(source, "__fspath__"):
        source = os.fspath(source)
    return av.open(source, mode="r", metadata_errors="ignore", container_options=options,
                   timeout=IO_TIMEOUT_SECONDS, **kwargs)  # fmt: skip


class ProbeError(Exception):
    """The file could not be read as media."""


@dataclass
class ProbeResult:
    container: str
    duration: float | None
    audio_codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    audio_bit_rate: int | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    streams: list[dict] = field(default_factory=list)

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    def as_dict(self) -> dict:
        return asdict(self)


# Containers whose "video" is only a cover picture, not a motion stream.
_STILL_CODECS = {"mjpeg", "png", "bmp", "gif", "webp"}


# How far before the announced end the tail check seeks, and how short of it the decoded
# audio may stop (encoder padding, rounding) before the file counts as cut off.
_TAIL_SECONDS = 2.0
_TAIL_TOLERANCE_SECONDS = 1.0
_TAIL_MAX_FRAMES = 5000


def _duration_is_an_estimate(container, stream, duration: float) -> bool:
    """True when FFmpeg derived the duration from size and bit rate (AMR, ADTS AAC, MP3
    without a Xing header) rather than reading it from a header."""
    size = getattr(container, "size", 0) or 0
    rate = stream.codec_context.bit_rate or 0
    if not size or not rate:
        return False
    return abs(size * 8 / rate - duration) <= max(0.5, 0.02 * duration)


def _audio_end(container, stream, duration: float) -> float | None:
    """Where the decodable audio really ends (seconds from the start), or None if unknown."""
    start = (container.start_time / av.time_base) if container.start_time else 0.0
    try:
        container.seek(int((start + max(0.0, duration - _TAIL_SECONDS)) * av.time_base))
    except (av.FFmpegError, OSError):
        return None  # not seekable: nothing more can be learnt cheaply
    end = None
    try:
        for count, frame in enumerate(container.decode(stream)):
            if frame.pts is not None and frame.sample_rate:
                end = float(frame.pts * frame.time_base) + frame.samples / frame.sample_rate
            if count >= _TAIL_MAX_FRAMES:
                return None  # the seek did not get near the end; do not decode it all
    except (av.FFmpegError, ValueError):
        pass  # a damaged last packet: judge by what decoded before it
    return None if end is None else end - start


def _checked_duration(container, stream, duration: float) -> float:
    """``duration`` if the audio really lasts that long; the measured length if the
    duration was only estimated; ProbeError if a header promises more than the file holds."""
    if _duration_is_an_estimate(container, stream, duration):
        # The length was guessed from size and bit rate (AMR, ADTS AAC), and so are the
        # timestamps after a seek into such a stream: read the packets from the start
        # instead (no decoding; each packet's timestamp is counted, so it is exact).
        return _demuxed_duration(container) or duration
    end = _audio_end(container, stream, duration)
    if end is not None and end >= duration - _TAIL_TOLERANCE_SECONDS:
        return duration
    reached = 0.0 if end is None else end
    raise ProbeError(f"audio stops at {reached:.1f}s but the file announces {duration:.1f}s")


def _demuxed_duration(container) -> float | None:
    end = None
    try:
        container.seek(0)
    except (av.FFmpegError, OSError):
        pass
    try:
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                stop = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                end = stop if end is None else max(end, stop)
    except (av.FFmpegError, ValueError):
        pass
    return end


def probe_file(source) -> ProbeResult:
    """Open ``source`` (a path or a binary file object) and describe its streams.

    Decodes one audio frame as well, so a file whose header parses but whose payload is
    garbage is rejected here rather than in a transcode minutes later; and decodes the last
    seconds, so a file cut short in transfer (whose header still announces the whole
    recording, as MP3 and FLAC headers do) is rejected instead of half-broadcast.
    """
    try:
        with open_media(source) as container:
            result = ProbeResult(
                container=container.format.name,
                duration=(container.duration / av.time_base) if container.duration else None,
                bit_rate=container.bit_rate or None,
            )
            audio_stream = None
            for stream in container.streams:
                ctx = stream.codec_context
                if ctx is None:  # a stream FFmpeg has no decoder for, or a broken header
                    result.streams.append({"index": stream.index, "type": stream.type})
                    continue
                info = {"index": stream.index, "type": stream.type, "codec": ctx.name}
                if stream.type == "audio" and result.audio_codec is None:
                    audio_stream = stream
                    result.audio_codec = ctx.name
                    result.channels = ctx.channels
                    result.sample_rate = ctx.sample_rate
                    result.audio_bit_rate = ctx.bit_rate or None
                elif (
                    stream.type == "video"
                    and result.video_codec is None
                    and ctx.name not in _STILL_CODECS
                ):
                    result.video_codec = ctx.name
                    result.width, result.height = ctx.width, ctx.height
                    rate = stream.average_rate or stream.guessed_rate
                    result.frame_rate = float(rate) if rate else None
                result.streams.append(info)
            if audio_stream is not None:
                decoded = False
                for frame in container.decode(audio_stream):
                    decoded = frame is not None
                    break
                if not decoded:
                    raise ProbeError("no decodable audio frame")
            if result.duration is None and audio_stream is not None and audio_stream.duration:
                result.duration = float(audio_stream.duration * audio_stream.time_base)
            if result.duration is None:
                # Browser recordings (MediaRecorder WebM) carry no duration: read the packet
                # timestamps to the end (no decoding).
                result.duration = _demuxed_duration(container)
            # A video's soundtrack may rightly end before its picture: check audio files only.
            if audio_stream is not None and result.duration and not result.has_video:
                result.duration = _checked_duration(container, audio_stream, result.duration)
            return result
    except ProbeError:
        raise
    except Exception as exc:  # hostile input must never escape as a crash
        raise ProbeError(f"{type(exc).__name__}: {exc}") from exc
