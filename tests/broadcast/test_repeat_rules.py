"""A repeat rule in words says exactly when it plays.

``describe_slot`` writes one Vietnamese sentence from an RRULE; these properties read the
sentence back (the times of day and weekdays it names) and compare it with the moments
dateutil really expands from the same RRULE (``broadcast.timeline.occurrences``, the
compiler's own expansion). The form's controls go the other way: the RRULEs they make fire
at exactly the chosen moments and read back into the same controls.
"""

import re
from datetime import date, datetime, time, timedelta

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcast.programmes.rules import (
    WEEKDAYS,
    Repeat,
    describe_slot,
    describe_slots,
    parse_times,
    repeat_from_slots,
    repeat_slots,
)
from broadcast.timeline import LOCAL_TZ, occurrences

VI_DAYS = {
    "thứ hai": "MO",
    "thứ ba": "TU",
    "thứ tư": "WE",
    "thứ năm": "TH",
    "thứ sáu": "FR",
    "thứ bảy": "SA",
    "chủ nhật": "SU",
}
DAY_WORD = re.compile("|".join(VI_DAYS))


def read_times(text: str) -> set[str]:
    return set(re.findall(r"\b\d\d:\d\d\b", text.split(", từ ")[0]))


def read_days(text: str) -> set[str]:
    """Weekdays a sentence names, ranges ("thứ Hai đến thứ Sáu") expanded; every day for
    "Hằng ngày"."""
    lower = text.lower()
    if lower.startswith("hằng ngày"):
        return set(WEEKDAYS)
    head = lower.split(" hằng tuần")[0]
    days: set[str] = set()
    for part in re.split(r", | và ", head):
        found = DAY_WORD.findall(part)
        if " đến " in part and len(found) == 2:
            a, b = WEEKDAYS.index(VI_DAYS[found[0]]), WEEKDAYS.index(VI_DAYS[found[1]])
            days.update(WEEKDAYS[a : b + 1])
        else:
            days.update(VI_DAYS[d] for d in found)
    return days


def fired(starts_at, rrule, days=21):
    return occurrences(
        starts_at=starts_at,
        rrule=rrule,
        valid_until=None,
        start=starts_at,
        end=starts_at + timedelta(days=days),
    )


day_sets = st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=7)
hours = st.sets(st.integers(0, 23), min_size=1, max_size=4)
minutes = st.sets(st.integers(0, 59), min_size=1, max_size=3)
starts = st.builds(
    lambda d, h, m: datetime.combine(d, time(h, m), LOCAL_TZ),
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    st.integers(0, 23),
    st.integers(0, 59),
)


@st.composite
def daily_or_weekly_rules(draw):
    freq = draw(st.sampled_from(["DAILY", "WEEKLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(sorted(draw(day_sets), key=WEEKDAYS.index)))
    if draw(st.booleans()):
        parts.append("BYHOUR=" + ",".join(map(str, sorted(draw(hours)))))
    if draw(st.booleans()):
        parts.append("BYMINUTE=" + ",".join(map(str, sorted(draw(minutes)))))
    return ";".join(parts)


@settings(max_examples=150, deadline=None)
@given(rule=daily_or_weekly_rules(), start=starts)
def test_the_sentence_names_exactly_the_times_and_weekdays_the_rule_fires_on(rule, start):
    with translation.override("vi"):
        text = describe_slot(starts_at=start, rrule=rule)
    moments = fired(start, rule)
    assert moments, rule
    assert read_times(text) == {f"{m:%H:%M}" for m in moments}, (rule, text)
    assert read_days(text) == {WEEKDAYS[m.weekday()] for m in moments}, (rule, text)
    assert "FREQ" not in text and "BY" not in text


@st.composite
def repeats(draw):
    mode = draw(st.sampled_from(["once", "daily", "weekdays", "weekly"]))
    times = tuple(
        sorted(
            draw(
                st.sets(
                    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
                    min_size=1,
                    max_size=5,
                )
            )
        )
    )
    weekdays = tuple(sorted(draw(day_sets), key=WEEKDAYS.index)) if mode == "weekdays" else ()
    first = draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    return Repeat(mode, first, times, weekdays)


def _normalised(repeat: Repeat) -> Repeat:
    """All seven weekdays is "every day"; the first day's weekday alone is "weekly"."""
    if repeat.mode == "weekdays" and len(repeat.weekdays) == 7:
        return Repeat("daily", repeat.first_day, repeat.times)
    if repeat.mode == "weekdays" and repeat.weekdays == (WEEKDAYS[repeat.first_day.weekday()],):
        return Repeat("weekly", repeat.first_day, repeat.times)
    return repeat


@settings(max_examples=150, deadline=None)
@given(repeat=repeats())
def test_the_controls_become_rules_that_fire_at_the_chosen_moments_and_read_back(repeat):
    slots = repeat_slots(repeat)
    moments = sorted(m for s in slots for m in fired(s["starts_at"], s["rrule"] or "", days=14))
    assert {m.time() for m in moments} == set(repeat.times)
    expected_days = {
        "once": {WEEKDAYS[repeat.first_day.weekday()]},
        "daily": set(WEEKDAYS),
        "weekdays": set(repeat.weekdays),
        "weekly": {WEEKDAYS[repeat.first_day.weekday()]},
    }[repeat.mode]
    assert {WEEKDAYS[m.weekday()] for m in moments} == expected_days
    assert min(m.date() for m in moments) >= repeat.first_day
    assert repeat_from_slots(slots) == _normalised(repeat)
    with translation.override("vi"):
        text = describe_slots(slots)
    assert read_times(text) == {f"{t:%H:%M}" for t in repeat.times}, text
    if repeat.mode != "once":
        assert read_days(text) == expected_days, text


def test_the_sentences_a_scheduler_reads():
    start = datetime(2026, 12, 1, 6, 0, tzinfo=LOCAL_TZ)
    with translation.override("vi"):
        assert (
            describe_slot(starts_at=start, rrule="FREQ=DAILY;BYHOUR=6,17;BYMINUTE=0")
            == "Hằng ngày lúc 06:00 và 17:00"
        )
        assert (
            describe_slot(starts_at=start, rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6")
            == "Thứ Hai đến thứ Sáu hằng tuần lúc 06:00"
        )
        assert (
            describe_slot(starts_at=start, rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR")
            == "Thứ Hai, thứ Tư và thứ Sáu hằng tuần lúc 06:00"
        )
        assert describe_slot(starts_at=start) == "Một lần lúc 06:00 ngày 01/12/2026"
        slots = repeat_slots(Repeat("daily", start.date(), parse_times("6:00, 17h30")))
        assert len(slots) == 2  # BYHOUR × BYMINUTE cannot say 06:00 and 17:30 in one rule
        assert describe_slots(slots) == "Hằng ngày lúc 06:00 và 17:30"
