"""Probe media by content with PyAV (never by file name)."""

from dataclasses import asdict, dataclass, field

import av


class ProbeError(Exception):
    """The file could not be read as media."""


@dataclass
class ProbeResult:
    container: str
    duration: float | None
    audio_codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
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


def probe_file(source) -> ProbeResult:
    """Open ``source`` (a path or a binary file object) and describe its streams.

    Decodes one audio frame as well, so a file whose header parses but whose payload is
    garbage is rejected here rather than in a transcode minutes later.
    """
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            result = ProbeResult(
                container=container.format.name,
                duration=(container.duration / av.time_base) if container.duration else None,
                bit_rate=container.bit_rate or None,
            )
            audio_stream = None
            for stream in container.streams:
                ctx = stream.codec_context
                info = {"index": stream.index, "type": stream.type, "codec": ctx.name}
                if stream.type == "audio" and result.audio_codec is None:
                    audio_stream = stream
                    result.audio_codec = ctx.name
                    result.channels = ctx.channels
                    result.sample_rate = ctx.sample_rate
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
            return result
    except ProbeError:
        raise
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise ProbeError(str(exc)) from exc
