"""More of what a reporter notices at upload: every accepted format goes in (stills too,
HEIC from iPhones included), hostile or broken files are refused in Vietnamese with
nothing stored, and a stored file never carries the reporter's name on disk."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image

from media.ffmpeg import run_ffmpeg
from media.models import MediaAsset, Rendition
from media.services import asset_create
from tests.factories import make_audio, make_upload

pytestmark = pytest.mark.django_db

BAD_NAME = "The file name contains forbidden characters."
TOO_LARGE = "The file is too large (limit %(limit)s MB)."
BOMB = "The image has too many pixels to be processed safely."
BAD_IMAGE = "The file is not a readable image, or it is damaged."
IMAGE_FORMAT = "Only JPEG, PNG, WebP or HEIC images are accepted."


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def refused(upload, *, kind: str, expect: str, media_root: Path) -> None:
    with pytest.raises(ValidationError) as info:
        asset_create(upload=upload, kind=kind)
    assert info.value.messages == [translation.gettext(expect)]
    assert MediaAsset.objects.count() == 0 and Rendition.objects.count() == 0
    assert stored_files(media_root) == []


def video(path: Path, *, vcodec: list[str], acodec: list[str]) -> Path:
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=d=1:s=176x144:r=15", "-f", "lavfi", "-i",
         "sine=f=440:d=1", "-shortest", *vcodec, *acodec, str(path)],
        timeout=120,
    )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("name", "vcodec", "acodec"),
    [
        ("clip.mov", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], ["-c:a", "aac"]),
        ("clip.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], ["-c:a", "libopus"]),
        (
            "clip.3gp",
            ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
            ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1"],
        ),  # fmt: skip
        ("clip.webm", ["-c:v", "libvpx", "-deadline", "realtime"], ["-c:a", "libopus"]),
    ],
)
def test_camera_and_phone_video_formats_are_accepted(tmp_path, media_root, name, vcodec, acodec):
    source = video(tmp_path / name, vcodec=vcodec, acodec=acodec)

    asset = asset_create(upload=make_upload(source), kind="video")

    assert asset.duration == pytest.approx(1.0, abs=0.2)
    assert asset.probe["video_codec"] and asset.probe["audio_codec"]
    assert asset.probe["width"] == 176 and asset.probe["height"] == 144
    assert (
        asset.file.name == f"assets/{asset.uuid.hex[:2]}/{asset.uuid.hex}.{asset.container_suffix}"
    )
    assert sorted(asset.renditions.values_list("profile", flat=True)) == sorted(
        ["broadcast_video", "web_video_720", "web_video_480", "poster", "loudspeaker"]
    )


def test_opus_voice_note_is_accepted(tmp_path, media_root):
    source = tmp_path / "voice.opus"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=300:d=2", "-c:a", "libopus", "-f", "ogg",
                str(source)], timeout=60)  # fmt: skip
    asset = asset_create(upload=make_upload(source), kind="audio")
    assert asset.probe["audio_codec"] == "opus" and asset.container_suffix == "ogg"


@pytest.mark.parametrize(
    "name",
    ["ban\x00tin.mp3", "ban-tin\n.mp3", "ban\u202egpj.mp3", "..\\..\\ban-tin.mp3"],
)
def test_unsafe_file_names_are_refused(tmp_path, media_root, name):
    data = make_audio(tmp_path / "x", seconds=1, fmt="mp3").read_bytes()
    refused(make_upload(data, name=name), kind="audio", expect=BAD_NAME, media_root=media_root)


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.mp3", "a/b.mp3"])
def test_directories_in_a_name_never_reach_the_disk(tmp_path, media_root, name):
    data = make_audio(tmp_path / "x", seconds=1, fmt="mp3").read_bytes()
    asset = asset_create(upload=make_upload(data, name=name), kind="audio")
    assert "/" not in asset.original_name and ".." not in asset.original_name
    assert [p.relative_to(media_root).as_posix() for p in stored_files(media_root)] == [
        f"assets/{asset.uuid.hex[:2]}/{asset.uuid.hex}.mp3"
    ]


def test_upload_over_the_size_limit_is_refused(tmp_path, media_root, settings):
    settings.NGUON_MEDIA_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    data = make_audio(tmp_path / "x", seconds=20, fmt="wav").read_bytes()  # ~3.5 MB
    with pytest.raises(ValidationError) as info:
        asset_create(upload=make_upload(data, name="ban-tin.wav"), kind="audio")
    assert info.value.messages == [translation.gettext(TOO_LARGE) % {"limit": 2}]
    assert stored_files(media_root) == []


def image_bytes(fmt: str, *, size=(64, 48), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 0).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "name", "suffix"),
    [("JPEG", "anh.jpg", "jpg"), ("PNG", "anh.png", "png"), ("WEBP", "anh.webp", "webp"),
     ("HEIF", "IMG_0001.HEIC", "jpg")],  # rebuilt as JPEG: browsers do not all show HEIC
)  # fmt: skip
def test_photos_are_accepted_and_stored_under_generated_names(media_root, fmt, name, suffix):
    asset = asset_create(upload=make_upload(image_bytes(fmt), name=name), kind="image")

    assert asset.kind == "image" and asset.status == MediaAsset.Status.READY
    assert asset.probe["width"] == 64 and asset.probe["height"] == 48
    assert asset.file.name == f"assets/{asset.uuid.hex[:2]}/{asset.uuid.hex}.{suffix}"
    assert asset.original_name == name
    with Image.open(asset.file.path) as stored:
        assert stored.size == (64, 48)


def test_heic_is_accepted_by_wagtail_images_too():
    from wagtail.images.utils import get_allowed_image_extensions

    assert "heic" in get_allowed_image_extensions()
    data = image_bytes("HEIF")
    with Image.open(io.BytesIO(data)) as image:  # Pillow reads it: pillow-heif is registered
        assert image.format == "HEIF"


def test_a_decompression_bomb_is_refused_before_decoding(media_root, settings):
    settings.NGUON_MEDIA_MAX_IMAGE_PIXELS = 1_000_000
    bomb = image_bytes("PNG", size=(4000, 4000), mode="1")  # 16 Mpx in a few kilobytes
    assert len(bomb) < 10_000
    refused(make_upload(bomb, name="anh.png"), kind="image", expect=BOMB, media_root=media_root)


@pytest.mark.parametrize(
    ("data", "name", "expect"),
    [
        (image_bytes("JPEG", size=(640, 480))[:900], "anh.jpg", BAD_IMAGE),  # cut in transfer
        ("Không phải ảnh".encode() * 40, "anh.jpg", BAD_IMAGE),  # text renamed
        (image_bytes("GIF"), "anh.jpg", IMAGE_FORMAT),  # a GIF renamed to .jpg
    ],
)
def test_broken_or_disguised_images_are_refused(media_root, data, name, expect):
    refused(make_upload(data, name=name), kind="image", expect=expect, media_root=media_root)


def test_every_new_refusal_reads_in_vietnamese():
    with translation.override("vi"):
        for message in (TOO_LARGE, BOMB, BAD_IMAGE, IMAGE_FORMAT, BAD_NAME):
            assert translation.gettext(message) != message, message


def test_a_browser_recording_without_a_duration_header_is_measured(tmp_path, media_root):
    # MediaRecorder (and any live WebM) writes no duration: it is read from the packets.
    source = tmp_path / "ghi-am.webm"
    proc = run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=f=300:d=2.5", "-c:a", "libopus", "-f", "webm",
         "-live", "1", str(source)],
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0
    import av

    with av.open(str(source)) as container:
        assert container.duration is None  # really no header duration
    asset = asset_create(upload=make_upload(source), kind="audio")
    assert asset.duration == pytest.approx(2.5, abs=0.1)
