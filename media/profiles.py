"""Delivery profiles are data: an output container, codec arguments, and a MIME type."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AudioProfile:
    name: str
    suffix: str
    mime_type: str
    codec_args: list[str] = field(default_factory=list)
    channels: int = 1
    sample_rate: int = 44100
    filters: str = ""


LOUDSPEAKER = AudioProfile(
    name="loudspeaker",
    suffix="mp3",
    mime_type="audio/mpeg",
    # CBR mono MP3 at 64 kbps: what outdoor horns and 4G receivers expect.
    codec_args=["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    channels=1,
    sample_rate=44100,
    # Speech band-pass, then single-pass loudness normalisation towards -16 LUFS.
    filters="highpass=f=120,lowpass=f=7000,loudnorm=I=-16:TP=-1.5:LRA=11",
)

PROFILES: dict[str, AudioProfile] = {LOUDSPEAKER.name: LOUDSPEAKER}


def get_profile(name: str) -> AudioProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown media profile {name!r}") from None
