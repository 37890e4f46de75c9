"""Pure timeline arithmetic: slot occurrences and the TT39 resolution rules.

Nothing here queries the database; ``compile.compile_timeline`` expands the slots of the
programmes ``reach`` loaded and hands their occurrences to :func:`resolve`. The rules, in order:

1. *Khẩn cấp* (emergency) occurrences keep their time; several at once queue one after the
   other. A stopped emergency ends at ``stopped_at``.
2. *Ưu tiên* (priority) occurrences are inserted ahead of the normal content of the next
   normal slot that starts at or after them; with no such slot in the window (or when the
   occurrence is a live broadcast, which cannot wait for a later slot) they play alone at
   their own time.
3. Normal (and lone priority) occurrences never overlap: in start order (priority first,
   then the narrowest target, then the oldest programme) each starts when the previous one
   ends, and anything that would overlap an emergency is moved to after it. Nothing is
   dropped; an entry records how far it was pushed back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CLASS_RANK = {"emergency": 0, "priority": 1, "normal": 2}
# Recurrence by hour, day, week (and longer); finer ones would flood every timeline.
ALLOWED_FREQS = {"HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class RRuleError(ValueError):
    pass


def parse_rrule(text: str, dtstart: datetime):
    """An RRULE for ``dtstart`` (aware). Raises :class:`RRuleError` when unusable."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = dict(p.split("=", 1) for p in text.upper().split(";") if "=" in p)
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise RRuleError(f"FREQ must be one of {', '.join(sorted(ALLOWED_FREQS))}")
    local = dtstart.astimezone(LOCAL_TZ)
    try:
        # Naive local wall-clock time: "every day at 06:00" stays 06:00 local.
        return rrulestr(text, dtstart=local.replace(tzinfo=None)), True
    except ValueError:
        try:
            return rrulestr(text, dtstart=local), False
        except (ValueError, TypeError) as exc:
            raise RRuleError(str(exc)) from exc
    except TypeError as exc:
        raise RRuleError(str(exc)) from exc


def _to_rule_time(value: datetime, naive: bool) -> datetime:
    local = value.astimezone(LOCAL_TZ)
    return local.replace(tzinfo=None) if naive else local


def _from_rule_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(LOCAL_TZ)


def occurrences(
    *,
    starts_at: datetime,
    rrule: str,
    valid_until: datetime | None,
    start: datetime,
    end: datetime,
    limit: int = 2000,
) -> list[datetime]:
    """Start times (aware, local) in ``[start, end)`` of a one-off or recurring slot."""
    if not rrule:
        return [starts_at.astimezone(LOCAL_TZ)] if start <= starts_at < end else []
    rule, naive = parse_rrule(rrule, starts_at)
    hi = end if valid_until is None else min(end, valid_until + timedelta(microseconds=1))
    if hi <= start:
        return []
    found = []
    for value in rule.xafter(_to_rule_time(start, naive), count=limit, inc=True):
        when = _from_rule_time(value)
        if when >= hi:
            break
        found.append(when)
    return found


def first_occurrence_after(
    *, starts_at: datetime, rrule: str, valid_until: datetime | None, after: datetime
) -> datetime | None:
    """The first start at or after ``after`` within the validity window, or None."""
    if not rrule:
        return starts_at if starts_at >= after else None
    rule, naive = parse_rrule(rrule, starts_at)
    value = rule.after(_to_rule_time(max(after, starts_at), naive), inc=True)
    if value is None:
        return None
    when = _from_rule_time(value)
    if valid_until is not None and when > valid_until:
        return None
    return when


@dataclass
class Occurrence:
    """One occurrence of a slot on one cluster, before and after resolution."""

    programme_id: int
    programme_name: str
    slot_id: int
    bulletin_class: str
    start: datetime
    duration: float
    parts: list[dict]
    target_rank: int = 9  # 0 = cluster target (narrowest) … larger = wider unit
    hard_end: datetime | None = None  # an emergency stopped early
    scheduled_start: datetime | None = None
    live: bool = False  # a live broadcast: plays at its own time, never inserted elsewhere
    inserted: list[int] = field(default_factory=list)  # priority programmes put ahead
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.slot_id}-{int(self.scheduled_start_or_start.timestamp())}"

    @property
    def scheduled_start_or_start(self) -> datetime:
        return self.scheduled_start or self.start

    @property
    def end(self) -> datetime:
        end = self.start + timedelta(seconds=self.duration)
        if self.hard_end is not None and self.hard_end < end:
            return self.hard_end
        return end


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def resolve(occurrences: list[Occurrence], *, window_end: datetime) -> list[Occurrence]:
    """Apply the TT39 rules (module docstring) and return non-overlapping entries."""
    for occ in occurrences:
        occ.scheduled_start = occ.scheduled_start or occ.start
    emergencies = sorted(
        (o for o in occurrences if o.bulletin_class == "emergency"),
        key=lambda o: (o.start, o.programme_id),
    )
    placed_emergencies: list[Occurrence] = []
    cursor = None
    for occ in emergencies:
        if cursor is not None and occ.start < cursor:
            occ.notes.append("queued_after_emergency")
            occ.start = cursor
        if occ.end <= occ.start:
            continue
        placed_emergencies.append(occ)
        cursor = occ.end

    normals = sorted(
        (o for o in occurrences if o.bulletin_class == "normal"),
        key=lambda o: (o.start, o.target_rank, o.programme_id),
    )
    lone: list[Occurrence] = []
    for prio in sorted(
        (o for o in occurrences if o.bulletin_class == "priority"),
        key=lambda o: (o.start, o.target_rank, o.programme_id),
    ):
        host = None if prio.live else next((n for n in normals if n.start >= prio.start), None)
        if host is None or host.start >= window_end:
            lone.append(prio)
            continue
        host.parts = [dict(p, bulletin_class="priority") for p in prio.parts] + host.parts
        host.duration += prio.duration
        host.inserted.append(prio.programme_id)

    queue = sorted(
        normals + lone,
        key=lambda o: (o.start, CLASS_RANK[o.bulletin_class], o.target_rank, o.programme_id),
    )
    placed: list[Occurrence] = []
    cursor = None
    for occ in queue:
        if cursor is not None and occ.start < cursor:
            occ.start = cursor
        moved = True
        while moved:
            moved = False
            for emergency in placed_emergencies:
                if _overlaps(occ.start, occ.end, emergency.start, emergency.end):
                    occ.start = emergency.end
                    moved = True
        if occ.start != occ.scheduled_start:
            occ.notes.append("delayed")
        placed.append(occ)
        cursor = occ.end
    return sorted(placed_emergencies + placed, key=lambda o: (o.start, o.programme_id))


def to_local_iso(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).isoformat()
