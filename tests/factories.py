"""Build only the tree a test needs: a province, optionally a district, communes, people."""

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from media.ffmpeg import run_ffmpeg
from newsroom.models import AdministrativeUnit
from newsroom.services import membership_grant
from newsroom.units import UnitSpec, units_load

T = AdministrativeUnit.Type


def make_tree(*, three_level: bool = True) -> dict[str, AdministrativeUnit]:
    """Province P with (district X: communes A, B) and (district Y: commune C) if three
    levels, else communes A, B, C directly under P."""
    if three_level:
        spec = UnitSpec(
            "90",
            "Tỉnh Thử Nghiệm",
            T.PROVINCE,
            children=(
                UnitSpec(
                    "901",
                    "Huyện Đồng Xoài",
                    T.DISTRICT,
                    children=(
                        UnitSpec("90001", "Xã Tân Đồng", T.COMMUNE),
                        UnitSpec("90002", "Xã Tân Bình", T.COMMUNE),
                    ),
                ),
                UnitSpec(
                    "902",
                    "Huyện Bù Đăng",
                    T.DISTRICT,
                    children=(UnitSpec("90003", "Xã Minh Hưng", T.COMMUNE),),
                ),
            ),
        )
    else:
        spec = UnitSpec(
            "91",
            "Tỉnh Hai Cấp",
            T.PROVINCE,
            children=(
                UnitSpec("91001", "Phường Hai Cấp A", T.COMMUNE),
                UnitSpec("91002", "Phường Hai Cấp B", T.COMMUNE),
                UnitSpec("91003", "Xã Hai Cấp C", T.COMMUNE),
            ),
        )
    units_load([spec])
    codes = (
        ["90", "901", "902", "90001", "90002", "90003"]
        if three_level
        else ["91", "91001", "91002", "91003"]
    )
    names = ["P", "X", "Y", "A", "B", "C"] if three_level else ["P", "A", "B", "C"]
    by_code = {u.code: u for u in AdministrativeUnit.objects.filter(code__in=codes)}
    return {name: by_code[code] for name, code in zip(names, codes, strict=True)}


@dataclass
class People:
    users: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.users[key]


def make_user(username: str, *, unit=None, role=None, **extra):
    user = get_user_model().objects.create_user(username=username, password="x", **extra)
    if unit is not None and role is not None:
        membership_grant(user=user, unit=unit, role=role)
    return user


def make_audio(path: Path, *, seconds: float = 3.0, channels: int = 2, fmt: str = "wav") -> Path:
    """A real audio file made by ffmpeg's lavfi sine source."""
    layout = "stereo" if channels == 2 else "mono"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-af",
            f"aformat=channel_layouts={layout}",
            str(path.with_suffix(f".{fmt}")),
        ],
        timeout=60,
    )
    return path.with_suffix(f".{fmt}")


# --- media, items and devices (appended for the media, device and feed tests) -----------


def make_video(path: Path, *, seconds: float = 2.0, with_audio: bool = True) -> Path:
    """A small real MP4 (H.264 test pattern, AAC sine if ``with_audio``) made by ffmpeg."""
    out = path.with_suffix(".mp4")
    args = [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=duration={seconds}:size=160x120:rate=10",
    ]
    if with_audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-shortest"]
    args += ["-pix_fmt", "yuv420p", str(out)]
    run_ffmpeg(args, timeout=60)
    return out


def make_noise(path: Path, *, seconds: float = 3.0, fmt: str = "wav") -> Path:
    """Mono pink noise (anoisesrc): speech-like loudness for the normaliser to work on."""
    out = path.with_suffix(f".{fmt}")
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=pink:duration={seconds}:amplitude=0.3",
            "-ac",
            "1",
            str(out),
        ],
        timeout=60,
    )
    return out


def make_upload(path_or_bytes, *, name: str | None = None, content_type: str = ""):
    """A Django SimpleUploadedFile from a file on disk (or raw bytes), as a browser sends it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
        name = name or "upload.bin"
    else:
        data = Path(path_or_bytes).read_bytes()
        name = name or Path(path_or_bytes).name
    return SimpleUploadedFile(name, data, content_type=content_type or "application/octet-stream")


def make_audio_asset(
    tmp_dir: Path,
    *,
    seconds: float = 2.0,
    name: str = "ban-tin",
    fmt: str = "wav",
    transcode: bool = True,
):
    """A stored audio MediaAsset; with ``transcode`` its loudspeaker MP3 is built too."""
    from media.services import asset_create, rendition_build

    tmp_dir.mkdir(parents=True, exist_ok=True)
    source = make_audio(tmp_dir / name, seconds=seconds, channels=2, fmt=fmt)
    asset = asset_create(upload=make_upload(source), kind="audio")
    if transcode:
        rendition_build(asset_id=asset.pk, profile="loudspeaker")
    return asset


def make_published_item(unit, headline: str, *, audio=None, published_at=None, live=True, **fields):
    """A NewsItem row as the publishing workflow leaves it (no workflow, no revisions)."""
    from django.utils import timezone

    from newsroom.models import NewsItem

    when = published_at or timezone.now()
    return NewsItem.objects.create(
        unit=unit,
        headline=headline,
        kind=NewsItem.Kind.AUDIO if audio is not None else NewsItem.Kind.ARTICLE,
        audio=audio,
        live=live,
        first_published_at=when if live else None,
        last_published_at=when if live else None,
        **fields,
    )


def make_device(commune, serial: str, *, cluster_name: str | None = None):
    """A loudspeaker cluster in ``commune`` with one device; returns (device, token)."""
    from broadcast.models import Cluster, Device
    from broadcast.services import device_token_issue

    cluster = Cluster.objects.create(name=cluster_name or f"Cụm loa {serial}", commune=commune)
    device = Device.objects.create(cluster=cluster, serial=serial)
    return device, device_token_issue(device=device)
