"""What a village loudspeaker gets from an upload: a mono 44.1 kHz ~64 kbps MP3 as long as
the recording, whose recorded size and checksum are those of the file; failures are
recorded where an editor can read them, and replays do no harm."""

import hashlib
from pathlib import Path

import av
import pytest

from media.ffmpeg import FFmpegError
from media.models import MediaAsset, Rendition
from media.services import asset_create, rendition_build
from media.tasks import asset_transcode
from tests.factories import make_audio, make_noise, make_upload, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def decode(path: Path) -> dict:
    """Decode the whole file, as a receiver would; describe what played."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = 0
        for frame in container.decode(stream):
            samples += frame.samples
        return {
            "format": container.format.name,
            "codec": stream.codec_context.name,
            "channels": stream.codec_context.channels,
            "sample_rate": stream.codec_context.sample_rate,
            "bit_rate": stream.codec_context.bit_rate,
            "seconds": samples / stream.codec_context.sample_rate,
        }


@pytest.mark.parametrize(
    ("fmt", "seconds", "make"),
    [("wav", 3.0, "sine"), ("m4a", 4.0, "sine"), ("wav", 5.0, "noise"), ("ogg", 2.0, "sine")],
)
def test_loudspeaker_mp3_is_mono_44k_64kbps_and_as_long_as_the_source(
    tmp_path, media_root, fmt, seconds, make
):
    if make == "noise":
        source = make_noise(tmp_path / "src", seconds=seconds, fmt=fmt)
    else:
        source = make_audio(tmp_path / "src", seconds=seconds, channels=2, fmt=fmt)
    asset = asset_create(upload=make_upload(source), kind="audio")

    rendition = rendition_build(asset_id=asset.pk, profile="loudspeaker")

    assert rendition.status == Rendition.Status.READY and rendition.error == ""
    path = Path(rendition.file.path)
    assert path.is_relative_to(media_root)
    assert path.suffix == ".mp3" and asset.uuid.hex in path.name
    played = decode(path)
    assert played["format"] == "mp3" and played["codec"].startswith("mp3")
    assert played["channels"] == 1
    assert played["sample_rate"] == 44100
    assert played["bit_rate"] == 64000
    assert played["seconds"] == pytest.approx(seconds, abs=0.3)
    # What is recorded is what is on disk, so devices can verify their download.
    data = path.read_bytes()
    assert rendition.size == len(data)
    assert rendition.sha256 == hashlib.sha256(data).hexdigest()
    assert rendition.mime_type == "audio/mpeg"
    assert rendition.channels == 1 and rendition.sample_rate == 44100
    assert rendition.bitrate == 64000
    assert rendition.duration == pytest.approx(seconds, abs=0.3)
    assert asset.rendition("loudspeaker") == rendition


def test_building_twice_keeps_one_row_and_one_file(tmp_path, media_root):
    source = make_audio(tmp_path / "src", seconds=2)
    asset = asset_create(upload=make_upload(source), kind="audio")

    first = rendition_build(asset_id=asset.pk, profile="loudspeaker")
    files_after_first = stored_files(media_root)
    content = Path(first.file.path).read_bytes()
    second = rendition_build(asset_id=asset.pk, profile="loudspeaker")

    assert second.pk == first.pk and second.file.name == first.file.name
    assert second.sha256 == first.sha256 and second.attempts == first.attempts == 1
    assert Rendition.objects.filter(asset=asset, profile="loudspeaker").count() == 1
    assert stored_files(media_root) == files_after_first  # the source and one MP3
    assert len(files_after_first) == 2
    assert Path(second.file.path).read_bytes() == content


def test_a_ready_rendition_whose_file_vanished_is_rebuilt(tmp_path, media_root):
    source = make_audio(tmp_path / "src", seconds=2)
    asset = asset_create(upload=make_upload(source), kind="audio")
    first = rendition_build(asset_id=asset.pk, profile="loudspeaker")
    Path(first.file.path).unlink()

    again = rendition_build(asset_id=asset.pk, profile="loudspeaker")

    assert again.pk == first.pk and again.status == Rendition.Status.READY
    assert Path(again.file.path).is_file()
    assert hashlib.sha256(Path(again.file.path).read_bytes()).hexdigest() == again.sha256
    assert Rendition.objects.filter(asset=asset, profile="loudspeaker").count() == 1


def corrupt(asset: MediaAsset) -> None:
    """Overwrite the stored source with garbage (disk damage, a bad copy between hosts)."""
    Path(asset.file.path).write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + b"\x13\x37" * 4000)


def test_corrupt_source_marks_the_rendition_failed_with_ffmpegs_words(tmp_path, media_root):
    asset = asset_create(upload=make_upload(make_audio(tmp_path / "s", seconds=1)), kind="audio")
    corrupt(asset)

    with pytest.raises(FFmpegError):
        rendition_build(asset_id=asset.pk, profile="loudspeaker")

    rendition = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert rendition.status == Rendition.Status.FAILED
    assert "ffmpeg failed" in rendition.error
    assert "Invalid data" in rendition.error or "invalid" in rendition.error.lower()
    assert rendition.attempts == 1
    assert asset.rendition("loudspeaker") is None
    assert not rendition.file
    assert [p.parent.name for p in stored_files(media_root)] == [asset.uuid.hex[:2]]


@pytest.fixture
def eager_retries():
    """Eager retries re-run in place only when eager errors are not re-raised at once."""
    conf = asset_transcode.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def test_a_corrupt_source_is_a_permanent_failure_kept_for_the_admin(
    tmp_path, media_root, eager_retries
):
    asset = asset_create(upload=make_upload(make_audio(tmp_path / "s", seconds=1)), kind="audio")
    corrupt(asset)

    result = asset_transcode.apply(args=[asset.pk])

    assert result.failed() and isinstance(result.result, FFmpegError)
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.FAILED and "ffmpeg failed" in asset.error
    assert asset.attempts == 1  # ffmpeg refusing the input is not retried
    rendition = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert rendition.status == Rendition.Status.FAILED and rendition.error


def test_a_missing_file_is_retried_with_backoff_then_given_up(tmp_path, media_root, eager_retries):
    asset = asset_create(upload=make_upload(make_audio(tmp_path / "s", seconds=1)), kind="audio")
    Path(asset.file.path).unlink()  # a storage outage looks like this

    result = asset_transcode.apply(args=[asset.pk])

    assert result.failed() and isinstance(result.result, OSError)
    asset.refresh_from_db()
    assert asset.attempts == 4  # the first run and three retries
    assert asset.status == MediaAsset.Status.FAILED and "missing" in asset.error


def test_an_upload_whose_transcode_fails_is_still_stored(
    tmp_path, media_root, django_capture_on_commit_callbacks
):
    source = make_audio(tmp_path / "s", seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        asset = asset_create(upload=make_upload(source), kind="audio")
        corrupt(asset)  # damaged between the upload and the (eager) transcode

    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    rendition = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert rendition.status == Rendition.Status.FAILED and "ffmpeg" in rendition.error


def test_a_missing_source_file_marks_the_rendition_failed(tmp_path, media_root):
    asset = asset_create(upload=make_upload(make_audio(tmp_path / "s", seconds=1)), kind="audio")
    Path(asset.file.path).unlink()

    with pytest.raises(OSError):
        rendition_build(asset_id=asset.pk, profile="loudspeaker")

    rendition = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert rendition.status == Rendition.Status.FAILED  # not "processing" forever
    assert rendition.error


def test_a_failed_rendition_is_built_once_the_source_is_good_again(tmp_path, media_root):
    source = make_audio(tmp_path / "s", seconds=1)
    asset = asset_create(upload=make_upload(source), kind="audio")
    good = Path(asset.file.path).read_bytes()
    corrupt(asset)
    with pytest.raises(FFmpegError):
        rendition_build(asset_id=asset.pk, profile="loudspeaker")

    Path(asset.file.path).write_bytes(good)
    rendition = rendition_build(asset_id=asset.pk, profile="loudspeaker")

    assert rendition.status == Rendition.Status.READY and rendition.error == ""
    assert rendition.attempts == 2


def test_the_task_on_a_deleted_asset_returns_quietly(tmp_path, media_root):
    asset = asset_create(upload=make_upload(make_audio(tmp_path / "s", seconds=1)), kind="audio")
    asset_id = asset.pk
    asset.delete()

    result = asset_transcode.delay(asset_id, "loudspeaker")

    assert result.successful() and result.result is None
    assert rendition_build(asset_id=asset_id, profile="loudspeaker") is None
    assert not Rendition.objects.filter(asset_id=asset_id).exists()


def test_a_video_with_sound_gives_a_loudspeaker_mp3_of_its_soundtrack(tmp_path, media_root):
    video = make_video(tmp_path / "clip", seconds=2)
    asset = asset_create(upload=make_upload(video), kind="video")

    rendition = rendition_build(asset_id=asset.pk, profile="loudspeaker")

    played = decode(Path(rendition.file.path))
    assert played["channels"] == 1 and played["seconds"] == pytest.approx(2, abs=0.3)


def test_upload_queues_the_loudspeaker_build_on_commit(
    tmp_path, media_root, django_capture_on_commit_callbacks
):
    source = make_audio(tmp_path / "s", seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        asset = asset_create(upload=make_upload(source), kind="audio")

    rendition = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert rendition.status == Rendition.Status.READY
    assert decode(Path(rendition.file.path))["channels"] == 1
