"""Text-to-speech: a pluggable engine turns an article into a spoken bulletin.

The engine is a class named by ``settings.NGUON_TTS_ENGINE`` (dotted path) with a
``synthesize(text, *, voice, speed, out_path)`` method that writes a WAV file. The one
shipped here runs ``espeak-ng -v vi``; another engine (a cloud voice, a local neural model)
only needs that method. The spoken WAV is stored as an ordinary audio asset, so it goes
through the same measure-once, decode-once pipeline and the same loudspeaker profile.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.utils.module_loading import import_string
from django.utils.text import slugify
from django.utils.translation import gettext as _


class TTSError(Exception):
    """The engine could not speak the text."""


class TTSEngine:
    """Base class: say ``text`` into ``out_path`` (WAV)."""

    default_voice = "vi"
    default_speed = 150

    def available(self) -> bool:
        return True

    def synthesize(self, text: str, *, voice: str, speed: int, out_path: Path) -> Path:
        raise NotImplementedError


class EspeakNGEngine(TTSEngine):
    """``espeak-ng -v <voice> -s <words per minute> -w out.wav`` with the text on stdin."""

    binary = "espeak-ng"

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def synthesize(self, text: str, *, voice: str, speed: int, out_path: Path) -> Path:
        program = shutil.which(self.binary)
        if program is None:
            raise TTSError("espeak-ng is not installed")
        if not re.fullmatch(r"[A-Za-z0-9_+\-]{1,40}", voice):
            raise TTSError(f"invalid voice {voice!r}")
        speed = max(80, min(int(speed), 450))
        try:
            done = subprocess.run(
                [program, "-v", voice, "-s", str(speed), "-w", str(out_path), "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=max(60, len(text) // 20),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TTSError("espeak-ng timed out") from exc
        if done.returncode != 0 or not out_path.is_file() or out_path.stat().st_size <= 44:
            raise TTSError(done.stderr.decode("utf-8", "replace")[-500:] or "no audio written")
        return out_path


@lru_cache(maxsize=4)
def _engine_class(path: str):
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"NGUON_TTS_ENGINE {path!r} cannot be imported") from exc


def tts_engine() -> TTSEngine:
    path = settings.NGUON_TTS_ENGINE
    return _engine_class(path)()


_BLOCK = re.compile(r"</(p|h[1-6]|li|div|blockquote)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def text_for_speech(text: str) -> str:
    """Plain sentences from article HTML (rich text): blocks end with a full stop."""
    text = _BLOCK.sub(". ", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(\s*[.!?:;]\s*\.)+", ".", text)
    return text.strip(" .") + "." if text.strip(" .") else ""


def tts_synthesize(*, text: str, voice: str | None = None, speed: int | None = None,
                   title: str = "") -> TemporaryUploadedFile:  # fmt: skip
    """Speak ``text`` into a WAV upload (the caller closes it). ValidationError when there
    is nothing to say or the engine fails."""
    spoken = text_for_speech(text)
    if not spoken:
        raise ValidationError(_("There is no text to read out."))
    engine = tts_engine()
    voice = voice or settings.NGUON_TTS_VOICE or engine.default_voice
    speed = speed or settings.NGUON_TTS_SPEED or engine.default_speed
    name = (slugify(title)[:60] or "ban-tin-doc") + ".wav"
    with tempfile.TemporaryDirectory(prefix="nguon-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        try:
            engine.synthesize(spoken, voice=voice, speed=int(speed), out_path=out)
        except TTSError as exc:
            raise ValidationError(
                _("The text could not be read out: %(reason)s") % {"reason": exc}
            ) from exc
        upload = TemporaryUploadedFile(name, "audio/wav", out.stat().st_size, None)
        with open(out, "rb") as fh:
            shutil.copyfileobj(fh, upload)
        upload.seek(0)
    return upload
