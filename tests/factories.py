"""Build only the tree a test needs: a province, optionally a district, communes, people."""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from media.ffmpeg import ffmpeg_binary
from newsroom.models import AdministrativeUnit
from newsroom.services import membership_grant
from newsroom.units import UnitSpec, units_load

T = AdministrativeUnit.Type


def make_tree(*, three_level: bool = True) -> dict[str, AdministrativeUnit]:
    """Province P with (district X: communes A, B) and (district Y: commune C) if three
    levels, else communes A, B, C directly under P."""
    if three_level:
        spec = UnitSpec("90", "Tỉnh Thử Nghiệm", T.PROVINCE, children=(
            UnitSpec("901", "Huyện Đồng Xoài", T.DISTRICT, children=(
                UnitSpec("90001", "Xã Tân Đồng", T.COMMUNE),
                UnitSpec("90002", "Xã Tân Bình", T.COMMUNE),
            )),
            UnitSpec("902", "Huyện Bù Đăng", T.DISTRICT, children=(
                UnitSpec("90003", "Xã Minh Hưng", T.COMMUNE),
            )),
        ))
    else:
        spec = UnitSpec("91", "Tỉnh Hai Cấp", T.PROVINCE, children=(
            UnitSpec("91001", "Phường Hai Cấp A", T.COMMUNE),
            UnitSpec("91002", "Phường Hai Cấp B", T.COMMUNE),
            UnitSpec("91003", "Xã Hai Cấp C", T.COMMUNE),
        ))
    units_load([spec])
    codes = ["90", "901", "902", "90001", "90002", "90003"] if three_level else [
        "91", "91001", "91002", "91003"]
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
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-af", f"aformat=channel_layouts={layout}",
         str(path.with_suffix(f".{fmt}"))],
        check=True, capture_output=True, timeout=60,
    )
    return path.with_suffix(f".{fmt}")
