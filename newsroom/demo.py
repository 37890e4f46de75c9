"""Demo data: one legacy three-level province, accounts for each role, a few items.

The legacy province (Bình Phước before the 2025 reform: province → district → commune)
exercises the three-level chain beside the official two-level map. Its codes are
illustrative and chosen not to clash with the official 2025 codes.
"""

from .models import AdministrativeUnit
from .units import UnitSpec

T = AdministrativeUnit.Type

LEGACY_PROVINCE = UnitSpec(
    code="70",
    name="Tỉnh Bình Phước (trước sáp nhập)",
    unit_type=T.PROVINCE,
    division_type="tỉnh",
    children=(
        UnitSpec(
            code="689",
            name="Thành phố Đồng Xoài",
            unit_type=T.DISTRICT,
            division_type="thành phố",
            children=(
                UnitSpec("25198", "Phường Tân Đồng", T.COMMUNE, "phường"),
                UnitSpec("25201", "Phường Tân Bình", T.COMMUNE, "phường"),
            ),
        ),
        UnitSpec(
            code="698",
            name="Huyện Bù Đăng",
            unit_type=T.DISTRICT,
            division_type="huyện",
            children=(
                UnitSpec("25219", "Xã Minh Hưng", T.COMMUNE, "xã"),
                UnitSpec("25447", "Xã Đức Liễu", T.COMMUNE, "xã"),
            ),
        ),
    ),
)

DEMO_PASSWORD = "nguon-demo-2025"  # noqa: S105 - printed for the local demo only
DEMO_DEVICE_TOKEN = "demo-loudspeaker-token-tan-dong-0001"  # noqa: S105 - demo only

# username, full name, role, unit code
DEMO_ACCOUNTS = [
    ("phongvien", "Nguyễn Văn Phóng", "reporter", "25198"),
    ("duyet_xa", "Trần Thị Duyệt", "approver", "25198"),
    ("duyet_huyen", "Lê Văn Huyện", "approver", "689"),
    ("duyet_tinh", "Phạm Thị Tỉnh", "approver", "70"),
    ("laplich", "Hoàng Văn Lịch", "scheduler", "25198"),
]
