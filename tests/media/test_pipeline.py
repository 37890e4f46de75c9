"""What each channel gets from an upload: every rendition decodes, has its profile's codec,
rate and channels, lasts as long as the source, and plays at its loudness target (checked
here with an independent ebur128 reading), whatever level the reporter recorded at."""

import re
import shutil
from pathlib import Path

import pytest

from media.loudness import Loudness
from media.models import MediaAsset, Rendition
from media.pipeline import SourceInfo, measure_chain, needs_limiter, plan_transcode
from media.profiles import get_profile

from .helpers import decoded, lavfi, loudness, video_info

pytestmark = pytest.mark.django_db

AUDIO_EXPECT = {
    # profile: (container format, codec prefix, sample rate, channels or None = source's)
    "loudspeaker": ("mp3", "mp3", 44100, 1),
    "broadcast_audio": ("wav", "pcm_s24le", 48000, None),
    "web_audio": ("mov,mp4,m4a,3gp,3g2,mj2", "aac", 44100, None),
}
TARGET = {"loudspeaker": -16.0, "broadcast_audio": -23.0, "web_audio": -16.0}
CEILING = {"loudspeaker": -1.5, "broadcast_audio": -1.0, "web_audio": -1.0}


BULLETIN = (
    "Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng mở rộng tháng này. "
    "Đề nghị các hộ gia đình đưa trẻ đến trạm y tế đúng giờ."
)


def espeak(path: Path, text: str = BULLETIN, speed: int = 160) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    import subprocess

    subprocess.run(
        ["espeak-ng", "-v", "vi", "-s", str(speed), "-w", str(path), text],
        check=True, timeout=60,
    )  # fmt: skip
    return path


SOURCES = {
    # name: (maker(tmp) -> path, channels)
    "quiet_stereo_sine_-50LUFS": (
        lambda t: lavfi(
            t / "quiet.wav", "sine=f=440:d=4", filters="volume=-28dB", args=["-ac", "2"]
        ),
        2,
    ),
    "hot_clipped_noise": (
        lambda t: lavfi(
            t / "hot.wav",
            "anoisesrc=color=pink:d=5:a=0.9",
            filters="volume=9dB",
            args=["-ac", "1", "-c:a", "pcm_s16le"],
        ),
        1,
    ),
    "stereo_tones_m4a": (
        lambda t: lavfi(
            t / "tones.m4a",
            "sine=f=330:d=6",
            filters="aformat=channel_layouts=stereo,volume=-20dB",
            args=["-c:a", "aac", "-b:a", "96k"],
        ),
        2,
    ),
    "phone_amr_8k": (
        lambda t: lavfi(
            t / "phone.amr",
            "anoisesrc=color=pink:d=6:a=0.2",
            filters="highpass=f=200,lowpass=f=3400",
            args=["-ac", "1", "-ar", "8000", "-c:a", "libopencore_amrnb"],
        ),
        1,
    ),
    "opus_ogg": (
        lambda t: lavfi(
            t / "voice.ogg",
            "sine=f=220:d=3",
            filters="volume=-10dB",
            args=["-ac", "1", "-c:a", "libopus", "-b:a", "32k"],
        ),
        1,
    ),
    # Harsh sources: what encoders overshoot on (square and sawtooth edges, hard clipping,
    # a pure tone sweeping through the band). Each output must stay under its ceiling.
    "square_bursts": (
        lambda t: lavfi(
            t / "square.wav",
            "aevalsrc=exprs='if(lt(mod(t\\,1)\\,0.3)\\,0.99*(2*gte(mod(440*t\\,1)\\,0.5)-1)\\,0)'"
            ":s=48000:d=4",
            args=["-ac", "2", "-c:a", "pcm_s16le"],
        ),
        2,
    ),
    "short_square_burst": (
        lambda t: lavfi(
            t / "square-short.wav",
            "aevalsrc=exprs='if(lt(t\\,0.4)\\,0.99*(2*gte(mod(1000*t\\,1)\\,0.5)-1)\\,0)'"
            ":s=44100:d=1.5",
            args=["-ac", "1", "-c:a", "pcm_s16le"],
        ),
        1,
    ),
    "sawtooth_bursts": (
        lambda t: lavfi(
            t / "saw.wav",
            "aevalsrc=exprs='if(lt(mod(t\\,0.8)\\,0.25)\\,0.99*(2*mod(220*t\\,1)-1)\\,0)'"
            ":s=48000:d=4",
            args=["-ac", "1", "-c:a", "pcm_s16le"],
        ),
        1,
    ),
    "clipped_music_like_noise": (
        lambda t: lavfi(
            t / "clipped.wav",
            "anoisesrc=color=pink:d=5:a=0.5",
            filters="tremolo=f=2:d=0.8,volume=15dB",  # clipped when written as 16-bit
            args=["-ac", "2", "-c:a", "pcm_s16le"],
        ),
        2,
    ),
    "siren_sweep": (
        lambda t: lavfi(
            t / "siren.wav",
            "aevalsrc=exprs='0.95*sin(2*PI*(1000*t-(400/PI)*cos(PI*t)))':s=48000:d=5",
            args=["-ac", "1", "-c:a", "pcm_s16le"],
        ),
        1,
    ),
    "espeak_speech": (lambda t: espeak(t / "speech.wav"), 1),
    # 3.4 s of synthetic speech, 22.05 kHz, peaks at 0 dBFS: its limiter costs ~2 LU per
    # pass, so it needs the corrective passes to reach the loudspeaker's -16 LUFS.
    "espeak_short_peaky": (
        lambda t: espeak(
            t / "short.wav",
            "Thông báo về đợt tiêm chủng mở rộng tại phường Tân Đồng.",
            speed=150,
        ),
        1,
    ),
}


@pytest.mark.parametrize("source_name", list(SOURCES))
def test_every_audio_rendition_meets_its_profile(tmp_path, process_now, source_name):
    make, channels = SOURCES[source_name]
    source = make(tmp_path)
    source_seconds = decoded(source)["seconds"]

    asset = process_now(source)

    assert asset.status == MediaAsset.Status.READY, asset.error
    assert asset.stage == MediaAsset.Stage.DONE and asset.progress == 100
    assert asset.loudness["integrated"] is not None  # the source's I, LRA, TP are kept
    assert set(asset.renditions_ready()) == {*AUDIO_EXPECT, "waveform"}
    for name, (fmt, codec, rate, want_channels) in AUDIO_EXPECT.items():
        rendition = asset.rendition(name)
        path = Path(rendition.file.path)
        assert path.name == f"{asset.uuid.hex}-{name}.{path.suffix[1:]}"
        played = decoded(path)
        assert played["format"] == fmt
        assert played["codec"].startswith(codec)
        assert played["sample_rate"] == rate
        assert played["channels"] == (want_channels or channels)
        assert played["seconds"] == pytest.approx(source_seconds, abs=0.1), name
        measured = loudness(path)
        assert measured["I"] == pytest.approx(TARGET[name], abs=1.0), (name, measured)
        assert measured["TP"] <= CEILING[name], (name, measured)  # a promise, no slack
        # What the pipeline recorded is what the independent reading says.
        assert rendition.loudness["integrated"] == pytest.approx(measured["I"], abs=0.2)
    broadcast = decoded(Path(asset.rendition("broadcast_audio").file.path))
    assert loudness(Path(asset.rendition("broadcast_audio").file.path))["I"] == pytest.approx(
        -23.0, abs=0.5
    )  # EBU R128's own tolerance
    # The BWF bext chunk (FFmpeg reads description/originator back as comment/encoded_by).
    assert broadcast["metadata"].get("encoded_by") == "Nguon"
    assert broadcast["metadata"].get("comment") == source.name
    assert broadcast["metadata"].get("originator_reference") == asset.uuid.hex


def test_the_waveform_is_a_png_picture(tmp_path, process_now):
    asset = process_now(lavfi(tmp_path / "a.wav", "sine=f=440:d=3"))
    waveform = asset.rendition("waveform")
    from PIL import Image

    with Image.open(waveform.file.path) as image:
        assert image.format == "PNG" and image.size == (1200, 240)
    assert waveform.mime_type == "image/png"


def test_silence_is_refused_for_playout_with_a_reason(tmp_path, process_now):
    asset = process_now(lavfi(tmp_path / "silence.wav", "anullsrc=r=44100:cl=mono:d=3",
                              args=["-t", "3"]))  # fmt: skip

    assert asset.status == MediaAsset.Status.FAILED
    loudspeaker = Rendition.objects.get(asset=asset, profile="loudspeaker")
    assert loudspeaker.status == Rendition.Status.FAILED
    assert "silent" in loudspeaker.error or "im lặng" in loudspeaker.error
    assert asset.rendition("loudspeaker") is None  # nothing silent reaches a loudspeaker


def test_all_audio_profiles_come_from_one_decode():
    profiles = [get_profile(n) for n in ("loudspeaker", "broadcast_audio", "web_audio",
                                         "waveform")]  # fmt: skip
    source = SourceInfo(duration=10, has_audio=True, channels=2)
    speech_chain = measure_chain(get_profile("loudspeaker"), source)
    measured = {"": Loudness(-30, 5, -10), speech_chain: Loudness(-28, 3, None)}
    plan = plan_transcode("in.wav", profiles, source, measured, Path("work"))

    assert plan.args.count("-i") == 1
    # One filter graph per branch, each reading the decoded audio (ffmpeg runs each graph
    # in its own thread); no asplit, which would put every branch in one thread.
    graphs = [plan.args[i + 1] for i, a in enumerate(plan.args) if a == "-filter_complex"]
    assert len(graphs) == 3
    assert all(g.startswith("[0:a:0]") and ";" not in g for g in graphs)
    joined = ";".join(graphs)
    assert "asplit" not in joined and "loudnorm" not in joined
    assert joined.count("volume=") == 3  # one linear gain per branch
    # broadcast_audio: TP -10 + 7 dB gain stays far below its -1.4 dBFS ceiling, so it needs
    # no limiter; web_audio (+14 dB) and the processed loudspeaker chain do.
    assert joined.count("alimiter=") == 2
    assert "alimiter" not in next(g for g in graphs if g.endswith("[o_broadcast_audio]"))
    # The waveform is drawn by the measuring decode, the other outputs by this one.
    assert set(plan.outputs) == {"loudspeaker", "broadcast_audio", "web_audio"}


def test_a_limiter_is_left_out_only_when_it_could_never_act():
    source = SourceInfo(duration=10, has_audio=True, channels=2)
    broadcast, loudspeaker = get_profile("broadcast_audio"), get_profile("loudspeaker")
    # Ceiling of broadcast_audio: -1.0 dBTP - 0.4 dB = -1.4 dBFS; skip margin 0.5 dB.
    assert not needs_limiter(broadcast, source, Loudness(-30, 5, -12.0), 10.0)  # -2.0
    assert needs_limiter(broadcast, source, Loudness(-30, 5, -11.0), 10.0)  # -1.0 + 0.5
    assert needs_limiter(broadcast, source, Loudness(-30, 5, None), 0.0)  # peak unknown
    # A processed chain's peak is not the source's: always limited.
    assert needs_limiter(loudspeaker, source, Loudness(-30, 5, -40.0), 0.0)
    surround = SourceInfo(duration=10, has_audio=True, channels=6)  # down-mixed
    assert needs_limiter(broadcast, surround, Loudness(-30, 5, -40.0), 0.0)


def test_the_transcode_decodes_the_source_once_and_writes_every_output(tmp_path):
    from media.ffmpeg import run_ffmpeg
    from media.pipeline import measure_chains

    path = lavfi(tmp_path / "in.wav", "anoisesrc=color=pink:d=3:a=0.2",
                 filters="lowpass=f=5000", args=["-ac", "2"])  # fmt: skip
    profiles = [get_profile(n) for n in ("loudspeaker", "broadcast_audio", "web_audio")]
    source = SourceInfo(duration=3, has_audio=True, channels=2)
    measured = measure_chains(path, profiles, source, timeout=60)
    assert measured[""].true_peak is not None  # the source's TP is kept
    assert measured[measure_chain(profiles[0], source)].true_peak is None  # gain only
    work = tmp_path / "work"
    work.mkdir()
    plan = plan_transcode(path, profiles, source, measured, work)

    proc = run_ffmpeg(["-loglevel", "verbose", *plan.args], timeout=60)

    decoders = [line for line in proc.stderr.splitlines()
                if "[dec:" in line and "Starting thread" in line]  # fmt: skip
    assert len(decoders) == 1, decoders  # one decoder feeds every branch's graph
    assert proc.stderr.count("Binding input with label '0:a:0' to input stream 0:0") == 3
    for name, out in plan.outputs.items():
        assert out.stat().st_size > 0, name
        assert decoded(out)["seconds"] == pytest.approx(3, abs=0.1), name


def make_video(path: Path, *, size: str, seconds: float = 3, rate: int = 30, audio=True):
    args = ["-f", "lavfi", "-i", f"testsrc2=d={seconds}:s={size}:r={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=500:d={seconds}", "-af", "volume=-25dB"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-ac", "2"]
    from media.ffmpeg import run_ffmpeg

    run_ffmpeg([*args, str(path)], timeout=120)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "suffix", "expect"),
    [
        # landscape 720p: broadcast keeps 1280x720, web 720 keeps it, 480 scales down
        (
            "1280x720",
            "mov",
            {
                "broadcast_video": (1280, 720),
                "web_video_720": (1280, 720),
                "web_video_480": (854, 480),
            },
        ),  # fmt: skip
        # a phone held upright: the short side is the width
        (
            "720x1280",
            "mp4",
            {
                "broadcast_video": (720, 1280),
                "web_video_720": (720, 1280),
                "web_video_480": (480, 854),
            },
        ),  # fmt: skip
    ],
)
def test_video_renditions_for_broadcast_and_web(tmp_path, process_now, size, suffix, expect):
    source = make_video(tmp_path / f"clip.{suffix}", size=size)

    asset = process_now(source, kind="video")

    assert asset.status == MediaAsset.Status.READY, asset.error
    for name, (w, h) in expect.items():
        info = video_info(Path(asset.rendition(name).file.path))
        assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
        assert (info["width"], info["height"]) in {(w, h), (w - 2, h), (w, h - 2)}, (name, info)
        assert info["audio"]["codec"] == "aac"
        assert info["audio"]["seconds"] == pytest.approx(3.0, abs=0.1)
        target = -23.0 if name == "broadcast_video" else -16.0
        assert loudness(Path(asset.rendition(name).file.path))["I"] == pytest.approx(
            target, abs=1.0
        )
    broadcast = video_info(Path(asset.rendition("broadcast_video").file.path))
    assert broadcast["profile"] == "High" and broadcast["fps"] == 25
    assert broadcast["frames"] == pytest.approx(75, abs=1)
    assert broadcast["audio"]["sample_rate"] == 48000
    from PIL import Image

    with Image.open(asset.rendition("poster").file.path) as poster:
        assert poster.format == "JPEG"
        assert (poster.width > poster.height) == (expect["web_video_480"][0] > 480)
    loudspeaker = decoded(Path(asset.rendition("loudspeaker").file.path))
    assert loudspeaker["channels"] == 1 and loudspeaker["seconds"] == pytest.approx(3, abs=0.1)


def test_a_silent_video_gets_pictures_but_no_loudspeaker_mp3(tmp_path, process_now):
    source = make_video(tmp_path / "mute.mp4", size="320x240", seconds=2, audio=False)

    asset = process_now(source, kind="video")

    assert asset.status == MediaAsset.Status.READY, asset.error
    assert "loudspeaker" not in asset.renditions_ready()
    info = video_info(Path(asset.rendition("web_video_480").file.path))
    assert info["audio"] is None and (info["width"], info["height"]) == (320, 240)
    assert asset.rendition("poster") is not None


@pytest.mark.parametrize("passes", [0, 3])
def test_an_output_over_its_ceiling_is_never_marked_ready(tmp_path, process_now, settings, passes):
    """A ceiling no output can honour (web audio at -16 LUFS under -20 dBTP): the rendition
    fails and says why, with or without corrective passes; the others are ready and under
    their own ceilings."""
    settings.NGUON_MEDIA_PROFILES = {"web_audio": {"true_peak": -20.0}}
    settings.NGUON_MEDIA_CORRECT_PASSES = passes
    asset = process_now(SOURCES["square_bursts"][0](tmp_path))

    failed = {r.profile: r.error for r in asset.renditions.filter(status=Rendition.Status.FAILED)}
    assert set(failed) == {"web_audio"}, failed
    assert re.search(r"true peak -?\d+\.\d dBTP is above the -20 dBTP ceiling|LUFS is outside",
                     failed["web_audio"]), failed  # fmt: skip
    for name, rendition in asset.renditions_ready().items():
        if name in CEILING:
            assert loudness(Path(rendition.file.path))["TP"] <= CEILING[name], name


def test_verification_refuses_an_output_whose_true_peak_is_over_its_ceiling(tmp_path):
    """A real MP3 measured by the pipeline's own verification: on its loudness target but
    over the ceiling, it is refused with both figures."""
    import dataclasses

    from media.pipeline import Branch
    from media.processing import _verify

    mp3 = lavfi(tmp_path / "hot.mp3", "sine=f=997:d=3", filters="volume=-2dB",
                args=["-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k"])  # fmt: skip
    measured = loudness(mp3)
    profile = dataclasses.replace(
        get_profile("loudspeaker"), target=measured["I"], true_peak=measured["TP"] - 3.0
    )
    source = SourceInfo(duration=3.0, has_audio=True, channels=1)
    results = _verify([Branch(profile, mp3, 0.0)], source, {"": Loudness(-20.0, 1.0, -3.0)})

    problem = results["loudspeaker"].problem
    assert "LUFS is outside" not in problem
    assert f"dBTP is above the {measured['TP'] - 3.0:g} dBTP ceiling" in problem
    assert results["loudspeaker"].peak_over == pytest.approx(3.0, abs=0.15)
