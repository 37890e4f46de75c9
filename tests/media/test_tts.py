"""Text-to-speech: an article read out by espeak-ng in Vietnamese becomes a loudspeaker
bulletin through the same profile as a recording; the engine is a setting."""

import shutil
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from media.ffmpeg import run_ffmpeg
from media.models import MediaAsset
from media.services import tts_bulletin_create
from media.tts import TTSEngine, text_for_speech

from .helpers import decoded, loudness

pytestmark = pytest.mark.django_db

ARTICLE = (
    "<h2>Thông báo tiêm chủng</h2><p>Ủy ban nhân dân xã Tân Đồng thông báo lịch tiêm chủng "
    "mở rộng cho trẻ em dưới năm tuổi.</p><ul><li>Thời gian: sáng thứ bảy</li>"
    "<li>Địa điểm: trạm y tế xã</li></ul><p>Đề nghị các gia đình đưa trẻ đến đúng giờ &amp; "
    "mang theo sổ tiêm chủng.</p>"
)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng")


def test_article_html_is_read_as_sentences():
    spoken = text_for_speech(ARTICLE)
    assert "<" not in spoken and "&amp;" not in spoken and "& mang" in spoken
    assert spoken.startswith("Thông báo tiêm chủng. Ủy ban nhân dân xã Tân Đồng")
    assert "sáng thứ bảy. Địa điểm" in spoken


@needs_espeak
def test_an_article_becomes_a_loudspeaker_bulletin(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = tts_bulletin_create(text=ARTICLE, title="Thông báo tiêm chủng")
    asset.refresh_from_db()

    assert asset.kind == MediaAsset.Kind.AUDIO and asset.status == MediaAsset.Status.READY
    assert asset.original_name == "thong-bao-tiem-chung.wav"
    mp3 = Path(asset.rendition("loudspeaker").file.path)
    played = decoded(mp3)
    assert played["codec"].startswith("mp3") and played["channels"] == 1
    assert played["sample_rate"] == 44100
    assert played["seconds"] == pytest.approx(asset.duration, abs=0.1)
    assert played["seconds"] > 8  # the whole article was read
    assert loudness(mp3)["I"] == pytest.approx(-16.0, abs=1.0)
    assert loudness(mp3)["TP"] <= -1.5  # the loudspeaker profile's ceiling


@needs_espeak
def test_speed_and_voice_are_honoured():
    slow = tts_bulletin_create(text=ARTICLE, speed=110)
    fast = tts_bulletin_create(text=ARTICLE, speed=220)
    assert fast.duration < slow.duration * 0.7
    with pytest.raises(ValidationError):
        tts_bulletin_create(text=ARTICLE, voice="vi; rm -rf /")


def test_nothing_to_say_is_refused():
    with pytest.raises(ValidationError):
        tts_bulletin_create(text="<p> </p>")
    assert MediaAsset.objects.count() == 0


class ToneEngine(TTSEngine):
    """Another engine, as a deployment might plug in: one second of tone per 10 words."""

    def synthesize(self, text, *, voice, speed, out_path):
        seconds = max(1, len(text.split()) // 10)
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=f=500:d={seconds}", str(out_path)], timeout=60)
        return out_path


def test_the_engine_is_chosen_in_settings(settings, django_capture_on_commit_callbacks):
    settings.NGUON_TTS_ENGINE = "tests.media.test_tts.ToneEngine"
    with django_capture_on_commit_callbacks(execute=True):
        asset = tts_bulletin_create(text=" ".join(["chữ"] * 30))
    asset.refresh_from_db()
    assert asset.duration == pytest.approx(3.0, abs=0.05)
    assert asset.rendition("loudspeaker") is not None
