"""Repeat rules in words and controls: what the scheduler chooses, the RRULEs it becomes,
and one sentence saying when a slot plays ("Hằng ngày lúc 06:00 và 17:00").

Pure: no query. The admin form turns its controls (:class:`Repeat`) into slot dicts with
:func:`repeat_slots`; editing reads them back with :func:`repeat_from_slots`; every screen
that shows a slot calls :func:`describe_slot`, which reads the RRULE itself (rules written
through the API or before the form existed are described too). ``tests/broadcast/
test_repeat_rules.py`` checks with Hypothesis that the sentence names exactly the times of
day and the weekdays on which the RRULE really fires.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..timeline import LOCAL_TZ

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_LABELS = {
    "MO": gettext_lazy("Monday"),
    "TU": gettext_lazy("Tuesday"),
    "WE": gettext_lazy("Wednesday"),
    "TH": gettext_lazy("Thursday"),
    "FR": gettext_lazy("Friday"),
    "SA": gettext_lazy("Saturday"),
    "SU": gettext_lazy("Sunday"),
}
MODES = ("once", "daily", "weekdays", "weekly")
MODE_LABELS = {
    "once": gettext_lazy("Once"),
    "daily": gettext_lazy("Every day"),
    "weekdays": gettext_lazy("On chosen weekdays"),
    "weekly": gettext_lazy("Every week (same weekday as the first day)"),
}
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:hH.]\s*([0-5]\d)\s*$")


class RepeatError(ValueError):
    """The controls do not describe a schedule (a message for the scheduler)."""


@dataclass(frozen=True)
class Repeat:
    """What the scheduler chose: a mode, the first day, the times of day (sorted, unique)
    and, for ``weekdays``, the days (RRULE codes in week order)."""

    mode: str
    first_day: date
    times: tuple[time, ...]
    weekdays: tuple[str, ...] = field(default=())


def parse_times(text: str) -> tuple[time, ...]:
    """``"6:00, 17h30"`` → ``(06:00, 17:30)``, sorted and unique; ``RepeatError`` names
    the first value that is not a time of day."""
    found = set()
    for piece in re.split(r"[,;\s]+(?=\d)|[,;]", text or ""):
        if not piece.strip():
            continue
        match = _TIME.match(piece)
        if not match:
            raise RepeatError(_("“%(value)s” is not a time of day (hh:mm).") % {"value": piece})
        found.add(time(int(match.group(1)), int(match.group(2))))
    return tuple(sorted(found))


def format_times(times) -> str:
    return ", ".join(f"{t:%H:%M}" for t in times)


def _groups(times: tuple[time, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Times of day as few (hours, minutes) products as possible: an RRULE's BYHOUR and
    BYMINUTE multiply, so 06:00, 06:30, 17:00, 17:30 is one rule and 06:00, 17:30 two."""
    hours_by_minute: dict[int, set[int]] = defaultdict(set)
    for t in times:
        hours_by_minute[t.minute].add(t.hour)
    minutes_by_hours: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for minute, hours in hours_by_minute.items():
        minutes_by_hours[tuple(sorted(hours))].append(minute)
    return sorted(
        ((hours, tuple(sorted(minutes))) for hours, minutes in minutes_by_hours.items()),
        key=lambda g: (g[0][0], g[1][0]),
    )


def repeat_slots(repeat: Repeat) -> list[dict]:
    """The slots (``starts_at``, ``rrule``) that play at exactly the chosen moments."""
    if repeat.mode not in MODES:
        raise RepeatError(_("Choose how often it plays."))
    if not repeat.times:
        raise RepeatError(_("Add at least one time of day."))
    if repeat.mode == "once":
        return [
            {"starts_at": datetime.combine(repeat.first_day, t, LOCAL_TZ), "rrule": ""}
            for t in repeat.times
        ]
    if repeat.mode == "weekdays":
        days = [d for d in WEEKDAYS if d in repeat.weekdays]
        if not days:
            raise RepeatError(_("Choose at least one weekday."))
    elif repeat.mode == "weekly":
        days = [WEEKDAYS[repeat.first_day.weekday()]]
    else:
        days = list(WEEKDAYS)
    slots = []
    for hours, minutes in _groups(repeat.times):
        parts = ["FREQ=DAILY"] if len(days) == 7 else ["FREQ=WEEKLY", f"BYDAY={','.join(days)}"]
        parts += [f"BYHOUR={','.join(map(str, hours))}", f"BYMINUTE={','.join(map(str, minutes))}"]
        starts = datetime.combine(repeat.first_day, time(hours[0], minutes[0]), LOCAL_TZ)
        slots.append({"starts_at": starts, "rrule": ";".join(parts)})
    return slots


def _rule_parts(rrule: str) -> dict[str, str]:
    text = (rrule or "").strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    return dict(p.split("=", 1) for p in text.split(";") if "=" in p)


def _ints(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return sorted({int(v) for v in value.split(",")})
    except ValueError:
        return None


def repeat_from_slots(slots) -> Repeat | None:
    """The controls that would schedule these slots (objects or dicts with ``starts_at``
    and ``rrule``), or None when they say something the controls cannot (a monthly rule,
    an interval, a count)."""
    slots = list(slots)
    if not slots:
        return None
    starts = [_local(_get(s, "starts_at")) for s in slots]
    rules = [_get(s, "rrule") or "" for s in slots]
    first_day = min(starts).date()
    if not any(rules):
        if len({s.date() for s in starts}) != 1:
            return None
        return Repeat(
            "once", first_day, tuple(sorted({s.time().replace(second=0) for s in starts}))
        )
    if not all(rules):
        return None
    times: set[time] = set()
    day_sets = set()
    for rule, start in zip(rules, starts, strict=True):
        parts = _rule_parts(rule)
        if set(parts) - {"FREQ", "BYDAY", "BYHOUR", "BYMINUTE", "INTERVAL", "WKST"}:
            return None
        if parts.get("INTERVAL", "1") != "1" or start.date() != first_day:
            return None
        freq = parts.get("FREQ")
        days = parts.get("BYDAY")
        if days and not set(days.split(",")) <= set(WEEKDAYS):
            return None
        if freq == "DAILY":
            day_sets.add(tuple(d for d in WEEKDAYS if d in (days or ",".join(WEEKDAYS))))
        elif freq == "WEEKLY":
            day_sets.add(tuple(d for d in WEEKDAYS if d in (days or WEEKDAYS[start.weekday()])))
        else:
            return None
        hours = _ints(parts.get("BYHOUR")) or [start.hour]
        minutes = _ints(parts.get("BYMINUTE")) or [start.minute]
        times |= {time(h, m) for h in hours for m in minutes}
    if len(day_sets) != 1:
        return None
    days = day_sets.pop()
    if len(days) == 7:
        return Repeat("daily", first_day, tuple(sorted(times)))
    if days == (WEEKDAYS[first_day.weekday()],):
        return Repeat("weekly", first_day, tuple(sorted(times)))
    return Repeat("weekdays", first_day, tuple(sorted(times)), days)


def _get(slot, name):
    return slot.get(name) if isinstance(slot, dict) else getattr(slot, name)


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ) if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


# --- in words ----------------------------------------------------------------------------


def join_words(words: list[str]) -> str:
    """ "a", "a và b", "a, b và c"."""
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return _("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


def _days_words(days: list[str]) -> str:
    """Weekdays in week order; a run of three or more reads "thứ Hai đến thứ Sáu"."""
    indexes = sorted(WEEKDAYS.index(d) for d in days)
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(
                _("%(first)s to %(last)s")
                % {
                    "first": WEEKDAY_LABELS[WEEKDAYS[run[0]]],
                    "last": WEEKDAY_LABELS[WEEKDAYS[run[-1]]],
                }
            )
        else:
            words.extend(str(WEEKDAY_LABELS[WEEKDAYS[i]]) for i in run)
    return join_words(words)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_slot(*, starts_at: datetime, rrule: str = "", valid_until=None) -> str:
    """When a slot plays, in one sentence of the active language: "Hằng ngày lúc 06:00 và
    17:00", "Thứ Hai, thứ Tư và thứ Sáu hằng tuần lúc 06:00", "Một lần lúc 06:00 ngày
    05/12/2026". Reads the RRULE itself (as dateutil expands it from ``starts_at`` in local
    wall-clock time); a rule it cannot put in words is described by its frequency."""
    start = _local(starts_at)
    if not (rrule or "").strip():
        return _once([start.time()], start.date())
    return _describe(start, _rule_parts(rrule), None, valid_until)


def _once(times, day: date) -> str:
    return _capitalise(
        _("once at %(time)s on %(date)s")
        % {"time": join_words([f"{t:%H:%M}" for t in times]), "date": f"{day:%d/%m/%Y}"}
    )


def _describe(start: datetime, parts: dict, times: list[time] | None, valid_until) -> str:
    freq = parts.get("FREQ", "")
    hours = _ints(parts.get("BYHOUR")) or [start.hour]
    minutes = _ints(parts.get("BYMINUTE")) or [start.minute]
    if times is None:
        times = [time(h, m) for h in hours for m in minutes]
    n = (_ints(parts.get("INTERVAL")) or [1])[0]
    days = [d for d in (parts.get("BYDAY") or "").split(",") if d]
    plain_days = bool(days) and set(days) <= set(WEEKDAYS)
    values = {"times": join_words([f"{t:%H:%M}" for t in sorted(times)]), "n": n}
    if freq == "DAILY" and (not days or (plain_days and len(set(days)) == 7)) and n == 1:
        text = _("every day at %(times)s") % values
    elif freq == "DAILY" and not days:
        text = _("every %(n)s days at %(times)s") % values
    elif freq in ("DAILY", "WEEKLY") and (plain_days or (freq == "WEEKLY" and not days)):
        values["days"] = _days_words(days or [WEEKDAYS[start.weekday()]])
        if freq == "WEEKLY" and n > 1:
            text = _("%(days)s every %(n)s weeks at %(times)s") % values
        else:
            text = _("%(days)s every week at %(times)s") % values
    elif freq == "HOURLY":
        values["minutes"] = join_words([f":{m:02d}" for m in minutes])
        text = (
            _("every hour at minute %(minutes)s")
            if n == 1
            else _("every %(n)s hours at minute %(minutes)s")
        ) % values
    elif freq == "MONTHLY":
        values["day"] = join_words(
            [str(d) for d in (_ints(parts.get("BYMONTHDAY")) or [start.day])]
        )
        text = _("on day %(day)s of every month at %(times)s") % values
    elif freq == "YEARLY":
        values["date"] = f"{start:%d/%m}"
        text = _("every year on %(date)s at %(times)s") % values
    else:
        text = _("repeats by a custom rule, first at %(time)s on %(date)s") % {
            "time": f"{start:%H:%M}",
            "date": f"{start:%d/%m/%Y}",
        }
    if start.date() > datetime.now(LOCAL_TZ).date():
        text += _(", from %(date)s") % {"date": f"{start:%d/%m/%Y}"}
    if valid_until is not None:
        text += _(", until %(date)s") % {"date": f"{_local(valid_until):%d/%m/%Y}"}
    return _capitalise(text)


def describe_slots(slots) -> str:
    """A programme's slots in one sentence when the controls made them (one rule per group
    of minutes, or one-offs on one day), otherwise each slot's sentence joined by "; "."""
    slots = list(slots)
    repeat = repeat_from_slots(slots) if len(slots) > 1 else None
    if repeat is None:
        return "; ".join(
            describe_slot(
                starts_at=_get(s, "starts_at"),
                rrule=_get(s, "rrule") or "",
                valid_until=_get(s, "valid_until"),
            )
            for s in slots
        )
    if repeat.mode == "once":
        return _once(repeat.times, repeat.first_day)
    until = {_get(s, "valid_until") for s in slots}
    first = datetime.combine(repeat.first_day, repeat.times[0], LOCAL_TZ)
    if repeat.mode == "daily":
        parts = {"FREQ": "DAILY"}
    else:
        days = repeat.weekdays or (WEEKDAYS[repeat.first_day.weekday()],)
        parts = {"FREQ": "WEEKLY", "BYDAY": ",".join(days)}
    return _describe(first, parts, list(repeat.times), until.pop() if len(until) == 1 else None)
