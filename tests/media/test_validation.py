"""What a reporter notices when uploading a bulletin: real recordings are accepted with the
right length, anything else is refused with a message they can act on, and a refused
upload leaves nothing behind."""

import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from media.ffmpeg import ffmpeg_binary
from media.models import MediaAsset, Rendition
from media.probe import ProbeResult
from media.services import asset_create, asset_validate_upload
from tests.factories import make_audio, make_upload, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# What the reporter reads, in the active language (Vietnamese in this project).
EMPTY = "The file is empty."
DAMAGED = "The file is not a readable audio or video file, or it is damaged."
NOT_AUDIO = "This is not an audio file: no audio stream was found."
NOT_VIDEO = "This is not a video file: no video stream was found."
BAD_NAME = "The file name contains forbidden characters."
TOO_LONG_MINUTES = "The recording is too long (limit %(minutes)s minutes)."
TOO_LONG_SECONDS = "The recording is too long (limit %(seconds)s seconds)."
MESSAGES = [EMPTY, DAMAGED, NOT_AUDIO, NOT_VIDEO, BAD_NAME, TOO_LONG_MINUTES, TOO_LONG_SECONDS]


def rejected(upload, *, kind="audio", expect: str) -> None:
    """Try to store ``upload``: it must be refused with ``expect`` and nothing stored."""
    with pytest.raises(ValidationError) as info:
        asset_create(upload=upload, kind=kind)
    assert info.value.messages == [translation.gettext(expect)]
    assert MediaAsset.objects.count() == 0
    assert Rendition.objects.count() == 0


@pytest.mark.parametrize(
    ("fmt", "channels", "container_suffix"),
    [
        ("wav", 2, "wav"),
        ("mp3", 2, "mp3"),
        ("ogg", 1, "ogg"),
        ("flac", 2, "flac"),
        ("m4a", 1, "m4a"),
    ],
)
def test_real_recordings_are_accepted_with_their_length_and_channels(
    tmp_path, media_root, fmt, channels, container_suffix
):
    source = make_audio(tmp_path / "ban-tin", seconds=2.5, channels=channels, fmt=fmt)
    data = source.read_bytes()

    probe = asset_validate_upload(upload=make_upload(source), kind="audio")
    assert probe.duration == pytest.approx(2.5, abs=0.1)
    assert probe.channels == channels

    asset = asset_create(upload=make_upload(source), kind="audio")
    asset.refresh_from_db()
    assert asset.kind == "audio"
    assert asset.duration == pytest.approx(2.5, abs=0.1)
    assert asset.probe["channels"] == channels
    assert asset.size == len(data)
    assert asset.container_suffix == container_suffix
    assert asset.original_name == source.name
    with asset.file.open("rb") as fh:
        assert fh.read() == data
    # The renditions are queued, not built in the request.
    assert sorted(asset.renditions.values_list("profile", flat=True)) == [
        "broadcast_audio",
        "loudspeaker",
        "waveform",
        "web_audio",
    ]
    assert set(asset.renditions.values_list("status", flat=True)) == {"pending"}


def phone_recording(path, *, seconds: float, codec: str, suffix: str, rate: int) -> Path:
    """Pink noise encoded as a phone would (AMR-NB at 8 kHz, ADTS AAC)."""
    out = path.with_suffix(suffix)
    done = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i",
         f"anoisesrc=color=pink:duration={seconds}:amplitude=0.2", "-ac", "1",
         "-ar", str(rate), "-c:a", codec, str(out)],
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this ffmpeg cannot encode {codec}")
    return out


@pytest.mark.parametrize(
    ("codec", "suffix", "rate", "container_suffix"),
    [("libopencore_amrnb", ".amr", 8000, "amr"), ("aac", ".aac", 16000, "aac")],
)
def test_phone_recordings_whose_length_is_only_estimated_are_accepted(
    tmp_path, media_root, codec, suffix, rate, container_suffix
):
    # These formats carry no duration: FFmpeg guesses it from size and bit rate, and for
    # two minutes of AMR the guess is seconds off. The stored length is the real one.
    source = phone_recording(
        tmp_path / "ghi-am", seconds=120, codec=codec, suffix=suffix, rate=rate
    )
    asset = asset_create(upload=make_upload(source), kind="audio")
    assert asset.container_suffix == container_suffix
    assert asset.duration == pytest.approx(120, abs=0.5)


def test_stored_under_a_generated_name_never_the_users(tmp_path, media_root):
    source = make_audio(tmp_path / "x", seconds=1, fmt="mp3")
    name = "Bản tin sáng Tân Đồng.mp3"
    asset = asset_create(upload=make_upload(source, name=name), kind="audio")
    assert asset.original_name == name  # Vietnamese names are kept for display...
    assert "Bản" not in asset.file.name and "tin" not in asset.file.name  # ...not on disk
    assert asset.file.name == f"assets/{asset.uuid.hex[:2]}/{asset.uuid.hex}.mp3"
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [
        asset.file.name
    ]


def test_a_hostile_name_cannot_choose_the_stored_path(tmp_path, media_root):
    source = make_audio(tmp_path / "x", seconds=1, fmt="wav")
    upload = make_upload(source, name="../../../etc/passwd.wav")
    asset = asset_create(upload=upload, kind="audio")
    assert asset.file.name.startswith("assets/") and ".." not in asset.file.name
    assert all(p.is_relative_to(media_root) for p in stored_files(media_root))


def test_text_renamed_to_mp3_is_refused(media_root):
    text = "Đây không phải là âm thanh.\n".encode() * 50
    rejected(make_upload(text, name="ban-tin.mp3", content_type="audio/mpeg"), expect=DAMAGED)
    assert stored_files(media_root) == []


def test_empty_file_is_refused(media_root):
    rejected(make_upload(b"", name="ban-tin.mp3", content_type="audio/mpeg"), expect=EMPTY)
    assert stored_files(media_root) == []


def test_first_200_bytes_of_an_mp3_are_refused(tmp_path, media_root):
    mp3 = make_audio(tmp_path / "x", seconds=3, fmt="mp3").read_bytes()
    rejected(make_upload(mp3[:200], name="ban-tin.mp3"), expect=DAMAGED)
    assert stored_files(media_root) == []


@pytest.mark.parametrize("fmt", ["mp3", "flac"])
def test_a_recording_cut_off_in_transfer_is_refused(tmp_path, media_root, fmt):
    # MP3 and FLAC headers announce the full length, so the half that arrived would be
    # stored as a 10 s bulletin and half of it broadcast.
    data = make_audio(tmp_path / "x", seconds=10, fmt=fmt).read_bytes()
    rejected(make_upload(data[: len(data) // 2], name=f"ban-tin.{fmt}"), expect=DAMAGED)
    assert stored_files(media_root) == []


def test_video_uploaded_as_audio_is_refused(tmp_path, media_root):
    video = make_video(tmp_path / "clip", seconds=2)
    rejected(make_upload(video, name="ban-tin.mp3", content_type="audio/mpeg"), expect=NOT_AUDIO)
    assert stored_files(media_root) == []


def test_the_same_video_is_accepted_as_video(tmp_path, media_root):
    video = make_video(tmp_path / "clip", seconds=2)
    asset = asset_create(upload=make_upload(video, name="phong-su.mp4"), kind="video")
    assert asset.kind == "video" and asset.container_suffix == "mp4"
    assert asset.probe["width"] == 160 and asset.probe["height"] == 120


def test_a_video_whose_sound_ends_before_the_picture_is_accepted(tmp_path, media_root):
    clip = tmp_path / "phong-su.mp4"
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y",
         "-f", "lavfi", "-i", "testsrc2=duration=6:size=160x120:rate=10",
         "-f", "lavfi", "-i", "sine=duration=2", "-pix_fmt", "yuv420p", str(clip)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    asset = asset_create(upload=make_upload(clip), kind="video")
    assert asset.duration == pytest.approx(6, abs=0.2)


def test_audio_uploaded_as_video_is_refused(tmp_path, media_root):
    wav = make_audio(tmp_path / "x", seconds=1)
    rejected(make_upload(wav), kind="video", expect=NOT_VIDEO)


@pytest.mark.parametrize("name", ["ban\x00tin.mp3", "ban\ntin.mp3", "ban\x1btin.mp3"])
def test_file_name_with_control_characters_is_refused(tmp_path, media_root, name):
    mp3 = make_audio(tmp_path / "x", seconds=1, fmt="mp3")
    rejected(make_upload(mp3, name=name), expect=BAD_NAME)
    assert stored_files(media_root) == []


def test_recording_over_the_duration_limit_is_refused(tmp_path, media_root, settings):
    settings.NGUON_MEDIA_MAX_DURATION_SECONDS = 2
    ok = make_audio(tmp_path / "short", seconds=1.5, fmt="mp3")
    assert asset_create(upload=make_upload(ok), kind="audio").duration < 2
    long = make_audio(tmp_path / "long", seconds=3, fmt="mp3")
    with pytest.raises(ValidationError) as info:
        asset_create(upload=make_upload(long), kind="audio")
    # The limit is stated in a unit the reporter can use (not "0 minutes").
    assert info.value.messages == [translation.gettext(TOO_LONG_SECONDS) % {"seconds": 2}]
    assert MediaAsset.objects.count() == 1


def test_duration_limit_in_minutes(media_root, settings, monkeypatch):
    # Only the message is under test here: a 3-minute probe against a 2-minute limit.
    settings.NGUON_MEDIA_MAX_DURATION_SECONDS = 120
    three_minutes = ProbeResult(container="mp3", duration=180.0, audio_codec="mp3", channels=1)
    monkeypatch.setattr("media.services.probe_file", lambda source: three_minutes)
    with pytest.raises(ValidationError) as info:
        asset_validate_upload(upload=make_upload(b"x" * 10, name="a.mp3"), kind="audio")
    assert info.value.messages == [translation.gettext(TOO_LONG_MINUTES) % {"minutes": 2}]


def test_every_refusal_reads_in_vietnamese():
    """Every message the upload checks can raise (read from the modules that check uploads,
    so a new one is covered the day it is written) has a Vietnamese translation."""
    import ast

    import media.forms
    import media.image_services
    import media.services
    import media.uploads

    raised = set()
    for module in (media.services, media.uploads, media.image_services, media.forms):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") in ("_", "gettext")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                raised.add(node.args[0].value)  # implicit concatenation is one constant
    assert set(MESSAGES) <= raised and len(raised) >= 20, raised
    with translation.override("vi"):
        missing = sorted(m for m in raised if translation.gettext(m) == m)
    assert missing == [], f"media/locale/vi/LC_MESSAGES/django.po lacks: {missing}"
