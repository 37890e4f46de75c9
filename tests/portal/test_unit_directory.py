"""The unit directory follows Vietnamese alphabetical order (ICU's ``vi`` collation)."""

import re

import pytest

from newsroom.models import AdministrativeUnit
from newsroom.units import UnitSpec, units_load

pytestmark = pytest.mark.django_db

T = AdministrativeUnit.Type


def test_provinces_are_listed_in_vietnamese_order_by_their_proper_names(client):
    names = [
        "Tỉnh Vĩnh Long",
        "Tỉnh Điện Biên",
        "Tỉnh Đắk Lắk",
        "Tỉnh Đồng Nai",
        "Thành phố Cần Thơ",
        "Tỉnh Cao Bằng",
        "Tỉnh Đắk Nông",
        "Tỉnh An Giang",
        "Tỉnh Bình Dương",
        "Tỉnh Bà Rịa - Vũng Tàu",
        "Tỉnh Dak Test",
    ]
    units_load([UnitSpec(str(80 + n), name, T.PROVINCE) for n, name in enumerate(names)])
    html = client.get("/don-vi/").content.decode()
    listed = [
        n for n in re.findall(r'<li><a href="/don-vi/\d+/">([^<]+)</a></li>', html) if n in names
    ]
    assert listed == [
        "Tỉnh An Giang",
        "Tỉnh Bà Rịa - Vũng Tàu",
        "Tỉnh Bình Dương",
        "Tỉnh Cao Bằng",
        "Thành phố Cần Thơ",  # under C by its proper name, not under T
        "Tỉnh Dak Test",
        "Tỉnh Đắk Lắk",  # Đ after D ...
        "Tỉnh Đắk Nông",
        "Tỉnh Điện Biên",
        "Tỉnh Đồng Nai",
        "Tỉnh Vĩnh Long",  # ... and before V (code points put every Đ after V)
    ]
