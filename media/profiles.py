"""Delivery profiles are data: what each rendition is, its codec arguments and its loudness.

``DEFAULT_PROFILES`` is a plain dict; ``settings.NGUON_MEDIA_PROFILES`` may override any key
of any profile (``{"loudspeaker": {"bitrate": "96k"}}``) or add a profile of an existing
type. ``get_profile(name)`` returns a frozen :class:`Profile` built from the merged data.

Profile types:

``audio``  one audio file from the source's first audio stream (asset kinds audio, video)
``video``  one MP4 with picture and, when the source has one, sound (asset kind video)
``poster`` one JPEG frame of a video
``waveform`` one PNG picture of an audio file's waveform

Every audio-carrying profile names a loudness ``target`` (LUFS), a ``true_peak`` ceiling
(dBTP) and a ``tolerance`` (LU): after encoding, each output is measured again and a
rendition outside ``target ± tolerance`` is marked failed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The names the portal, the ninjs helpers and the broadcast helper use (docs/media.md).
LOUDSPEAKER = "loudspeaker"
BROADCAST_AUDIO = "broadcast_audio"
WEB_AUDIO = "web_audio"
BROADCAST_VIDEO = "broadcast_video"
WEB_VIDEO_720 = "web_video_720"
WEB_VIDEO_480 = "web_video_480"
POSTER = "poster"
WAVEFORM = "waveform"

# What people read for each profile (the admin's rendition lists); names not listed here
# (a province's own profiles) are shown as they are.
PROFILE_LABELS = {
    LOUDSPEAKER: _("for loudspeakers"),
    BROADCAST_AUDIO: _("for broadcast (audio)"),
    WEB_AUDIO: _("for the web (audio)"),
    BROADCAST_VIDEO: _("for broadcast (video)"),
    WEB_VIDEO_720: _("for the web (video 720p)"),
    WEB_VIDEO_480: _("for the web (video 480p)"),
    POSTER: _("poster image"),
    WAVEFORM: _("waveform"),
}

DEFAULT_PROFILES: dict[str, dict] = {
    LOUDSPEAKER: {
        "type": "audio",
        "suffix": "mp3",
        "mime_type": "audio/mpeg",
        "codec": "mp3",
        # CBR mono MP3: what outdoor horns and 4G receivers expect.
        "codec_args": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
        "channels": 1,
        "sample_rate": 44100,
        "bitrate": 64000,
        # Speech band for horns (they reproduce nothing below ~150 Hz), a slow level
        # rider (dynaudnorm: quiet and loud speakers alike) and a gentle compressor, so
        # quiet syllables carry outdoors. All of it runs BEFORE the linear gain and is
        # measured with the source, so the gain still lands on the target; dynaudnorm
        # makes the compressor see the same level whatever the recording's level.
        "pre_filters": "highpass=f=120,lowpass=f=7000,dynaudnorm=f=250:g=15:p=0.5:m=10,"
        "acompressor=threshold=0.1:ratio=2.5:attack=10:release=200:knee=4",
        "target": -16.0,
        "true_peak": -1.5,
        "tolerance": 1.0,
    },
    BROADCAST_AUDIO: {
        "type": "audio",
        "suffix": "wav",
        "mime_type": "audio/wav",
        "codec": "pcm_s24le",
        # BWF: a bext chunk with title, originator and date (filled in per asset).
        "codec_args": ["-c:a", "pcm_s24le", "-write_bext", "1", "-rf64", "auto", "-f", "wav"],
        "channels": None,  # the source's, at most 2
        "sample_rate": 48000,
        "bitrate": None,
        "pre_filters": "",
        "target": -23.0,
        "true_peak": -1.0,
        "tolerance": 0.5,
        "bext": True,
    },
    WEB_AUDIO: {
        "type": "audio",
        "suffix": "m4a",
        "mime_type": "audio/mp4",
        "codec": "aac",
        "codec_args": ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "ipod"],
        "channels": None,
        "sample_rate": 44100,
        "bitrate": 128000,
        "pre_filters": "",
        "target": -16.0,
        "true_peak": -1.0,
        "tolerance": 1.0,
    },
    BROADCAST_VIDEO: {
        "type": "video",
        "suffix": "mp4",
        "mime_type": "video/mp4",
        "codec": "h264",
        "video_args": [
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
        ],  # fmt: skip
        "short_side": 1080,
        "long_side": 1920,
        "fps": 25,
        "max_fps": None,
        "codec_args": ["-c:a", "aac", "-b:a", "192k"],
        "channels": None,
        "sample_rate": 48000,
        "target": -23.0,
        "true_peak": -1.0,
        "tolerance": 1.0,
    },
    WEB_VIDEO_720: {
        "type": "video",
        "suffix": "mp4",
        "mime_type": "video/mp4",
        "codec": "h264",
        "video_args": [
            "-c:v",
            "libx264",
            "-profile:v",
            "main",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
        ],  # fmt: skip
        "short_side": 720,
        "long_side": 1280,
        "fps": None,
        "max_fps": 30,
        "codec_args": ["-c:a", "aac", "-b:a", "128k"],
        "channels": None,
        "sample_rate": 44100,
        "target": -16.0,
        "true_peak": -1.0,
        "tolerance": 1.0,
    },
    WEB_VIDEO_480: {
        "type": "video",
        "suffix": "mp4",
        "mime_type": "video/mp4",
        "codec": "h264",
        "video_args": [
            "-c:v",
            "libx264",
            "-profile:v",
            "main",
            "-preset",
            "veryfast",
            "-crf",
            "25",
            "-pix_fmt",
            "yuv420p",
        ],  # fmt: skip
        "short_side": 480,
        "long_side": 854,
        "fps": None,
        "max_fps": 30,
        "codec_args": ["-c:a", "aac", "-b:a", "96k"],
        "channels": None,
        "sample_rate": 44100,
        "target": -16.0,
        "true_peak": -1.0,
        "tolerance": 1.0,
    },
    POSTER: {
        "type": "poster",
        "suffix": "jpg",
        "mime_type": "image/jpeg",
        "codec": "mjpeg",
        "short_side": 720,
        "long_side": 1280,
        # Where to look for a representative frame (fraction of the duration); the
        # thumbnail filter then picks the most typical of the next frames.
        "at": 0.33,
    },
    WAVEFORM: {
        "type": "waveform",
        "suffix": "png",
        "mime_type": "image/png",
        "codec": "png",
        "size": "1200x240",
        "colour": "#1d4ed8",
    },
}

# What is built for each asset kind, in order. Profiles needing a sound track are skipped
# for a silent video.
DEFAULT_KIND_PROFILES: dict[str, list[str]] = {
    "audio": [LOUDSPEAKER, BROADCAST_AUDIO, WEB_AUDIO, WAVEFORM],
    "video": [BROADCAST_VIDEO, WEB_VIDEO_720, WEB_VIDEO_480, POSTER, LOUDSPEAKER],
    "image": [],
}


@dataclass(frozen=True)
class Profile:
    name: str
    type: str
    suffix: str
    mime_type: str
    codec: str = ""
    codec_args: list[str] = field(default_factory=list)
    channels: int | None = None
    sample_rate: int | None = None
    bitrate: int | None = None
    pre_filters: str = ""
    dynamics: str = ""
    dynamics_makeup: float = 0.0
    target: float | None = None
    true_peak: float | None = None
    tolerance: float = 1.0
    bext: bool = False
    video_args: list[str] = field(default_factory=list)
    short_side: int | None = None
    long_side: int | None = None
    fps: float | None = None
    max_fps: float | None = None
    at: float = 0.33
    size: str = "1200x240"
    colour: str = "#1d4ed8"

    @property
    def has_audio(self) -> bool:
        return self.type in ("audio", "video")

    # Compatibility with the first version's AudioProfile.
    @property
    def filters(self) -> str:
        return self.pre_filters


# The first version's name for the profile type.
AudioProfile = Profile


def profile_data() -> dict[str, dict]:
    """The merged profile table: defaults updated by ``settings.NGUON_MEDIA_PROFILES``."""
    data = copy.deepcopy(DEFAULT_PROFILES)
    for name, override in settings.NGUON_MEDIA_PROFILES.items():
        data.setdefault(name, {}).update(copy.deepcopy(override))
    return data


def get_profile(name: str) -> Profile:
    try:
        raw = profile_data()[name]
    except KeyError:
        raise ValueError(f"unknown media profile {name!r}") from None
    known = {f.name for f in fields(Profile)}
    return Profile(name=name, **{k: v for k, v in raw.items() if k in known})


def profiles_for_kind(kind: str) -> list[str]:
    table = dict(DEFAULT_KIND_PROFILES)
    table.update(settings.NGUON_MEDIA_KIND_PROFILES)
    return list(table.get(kind, []))


class _ProfileTable:
    """``PROFILES[name]`` and ``name in PROFILES`` read the merged, settings-aware table."""

    def __getitem__(self, name: str) -> Profile:
        try:
            return get_profile(name)
        except ValueError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in profile_data()

    def __iter__(self):
        return iter(profile_data())

    def keys(self):
        return profile_data().keys()


PROFILES = _ProfileTable()
