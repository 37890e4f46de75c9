"""Vietnamese alphabetical order for names readers look up (the unit directory).

ICU's Vietnamese collation (CLDR ``vi``), through PyICU: Đ after D, base letters before
their tone marks (A < Ă < Â; a < à < ả …), not code points (which put every Đ after V).
Units are filed under their proper name: "Thành phố Cần Thơ" under C, "Tỉnh Đồng Nai"
under Đ, as a reader looks them up; the administrative kind only breaks ties.
"""

from __future__ import annotations

import re
from functools import cache

import icu

# The kinds a Vietnamese unit's official name starts with (the name's prefix, not a sort
# table): longest first, so "Thành phố" wins over a shorter match.
_KINDS = (
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
)
_KIND_PREFIX = re.compile(r"^(?:" + "|".join(map(re.escape, _KINDS)) + r")\s+")


@cache
def _collator() -> icu.Collator:
    return icu.Collator.createInstance(icu.Locale("vi"))


def proper_name(name: str) -> str:
    """ "Thành phố Cần Thơ" -> "Cần Thơ"; a name without a kind is returned as it is."""
    return _KIND_PREFIX.sub("", name.strip(), count=1) or name


def vietnamese_key(text: str) -> bytes:
    return _collator().getSortKey(text)


def units_sorted(units) -> list:
    """``units`` in Vietnamese alphabetical order of their proper names."""
    return sorted(
        units, key=lambda u: (vietnamese_key(proper_name(u.name)), vietnamese_key(u.name))
    )
