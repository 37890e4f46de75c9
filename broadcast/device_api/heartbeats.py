"""Heartbeat ingest buffered in Redis and written to the database in bulk.

100,000 loudspeakers sending a heartbeat every 60 s is 1,667 heartbeats a second. Written
one by one (:func:`heartbeat_record`: a few statements and a commit each) that is
more than one PostgreSQL server on two cores keeps up with. With a Redis cache (and
``BROADCAST_HEARTBEAT_BUFFER`` not ``off``), a heartbeat is instead one pipelined round
trip to Redis:

- ``bc:hb:state``: hash device id → its latest state (JSON); a newer heartbeat overwrites;
- ``bc:hb:counts``: hash ``<device>:<local day>:h|f`` → heartbeats and failures counted;
- ``bc:pending``: hash device id → unacknowledged commands, read in the same round trip
  for the answer's ``pending_commands``. Issuing and acknowledging commands move it after
  commit; every flush rebuilds it from the database, so a counter lost with Redis or
  raced by a rebuild is right again within one flush interval.

:func:`flush` (Celery beat, every ``BROADCAST_HEARTBEAT_FLUSH_SECONDS``, and before every
offline check) renames both hashes away atomically, writes them with a handful of bulk
statements in one transaction — device rows, day counters (``INSERT … ON CONFLICT``),
closed offline alerts — and deletes them only after the commit. A flush that dies keeps
its renamed hashes; the next one writes them first. The day counters are therefore
at-least-once (a crash between the commit and the delete counts that batch twice); the
device state is idempotent. The operators' views lag by at most one flush interval.

Without Redis (the embedded ``make run``, the test suite's default), heartbeats are
written directly, as before.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from datetime import date, datetime
from ipaddress import ip_address
from typing import cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field
from django.utils import timezone

from ..models import Alert, Device, DeviceDay
from ..timeline import LOCAL_TZ

logger = logging.getLogger(__name__)

STATE = "bc:hb:state"
PENDING = "bc:pending"
COUNTS = "bc:hb:counts"
LOCK = "bc:hb:lock"
FLUSHING = ":flushing"
STATE_COLUMNS = (
    "last_seen_at",
    "state",
    "volume",
    "signal",
    "firmware",
    "now_playing",
    "ip_address",
    "last_error",
)
CHUNK = 1000


def heartbeat_fields(data: dict) -> tuple[dict, bool]:
    """The device columns a heartbeat sets (absent values keep what the row has) and
    whether it reports a failure."""
    fields = {}
    state = data.get("status")
    if state:
        fields["state"] = state
    for key in ("volume", "signal", "firmware", "now_playing"):
        if data.get(key) is not None:
            fields[key] = data[key]
    if data.get("ip"):
        fields["ip_address"] = str(ip_address(data["ip"]))
    failed = state == Device.State.ERROR
    if failed or data.get("error"):
        fields["last_error"] = (data.get("error") or "")[:500]
    return fields, failed


def heartbeat_record(*, device_id: int, data: dict, now=None) -> None:
    """Store the latest state on the device row, count the heartbeat for the day's uptime,
    and close an open offline alert: three short statements in one transaction."""
    now = now or timezone.now()
    fields, failed = heartbeat_fields(data)
    fields["last_seen_at"] = now
    day = timezone.localtime(now, LOCAL_TZ).date()
    bump = {"heartbeats": F("heartbeats") + 1}
    if failed:
        bump["failures"] = F("failures") + 1
    # One transaction: one commit (one WAL flush) per heartbeat.
    with transaction.atomic():
        Device.objects.filter(pk=device_id).update(**fields)
        if Device.objects.filter(pk=device_id, offline_alerted_at__isnull=False).update(
            offline_alerted_at=None
        ):
            Alert.objects.filter(device_id=device_id, closed_at__isnull=True).update(closed_at=now)
        if not DeviceDay.objects.filter(device_id=device_id, day=day).update(**bump):
            try:
                with transaction.atomic():
                    DeviceDay.objects.create(
                        device_id=device_id, day=day, heartbeats=1, failures=int(failed)
                    )
            except IntegrityError:
                DeviceDay.objects.filter(device_id=device_id, day=day).update(**bump)


def _client():
    if settings.BROADCAST_HEARTBEAT_BUFFER == "off":
        return None
    from core.cache import redis_client

    return redis_client()


def _key(name: str) -> str:
    from django.core.cache import cache

    return cache.make_key(name)


def buffer(*, device_id: int, data: dict, now: datetime) -> int | None:
    """Buffer one heartbeat in Redis and return the device's pending commands; ``None``
    when there is no Redis to buffer in."""
    client = _client()
    if client is None:
        return None
    fields, failed = heartbeat_fields(data)
    fields["last_seen_at"] = now.isoformat()
    day = timezone.localtime(now, LOCAL_TZ).date().isoformat()
    pipe = client.pipeline(transaction=False)
    pipe.hset(_key(STATE), str(device_id), json.dumps(fields))
    pipe.hincrby(_key(COUNTS), f"{device_id}:{day}:h", 1)
    if failed:
        pipe.hincrby(_key(COUNTS), f"{device_id}:{day}:f", 1)
    pipe.hget(_key(PENDING), str(device_id))
    pending = pipe.execute()[-1]
    return max(int(pending or 0), 0)


def pending_changed(changes: dict[int, int]) -> None:
    """Move the pending-command counters (device id → +n / −n), after commit."""
    client = _client()
    if client is None or not changes:
        return
    pipe = client.pipeline(transaction=False)
    for device_id, delta in changes.items():
        pipe.hincrby(_key(PENDING), str(device_id), delta)
    pipe.execute()


def pending_rebuild() -> int:
    """Rebuild the pending-command counters from the database; returns how many devices
    have commands waiting."""
    client = _client()
    if client is None:
        return 0
    from django.db.models import Count

    from ..models import Command

    counts = dict(
        Command.objects.filter(acknowledged_at__isnull=True)
        .values("device_id")
        .annotate(n=Count("id"))
        .values_list("device_id", "n")
    )
    pipe = client.pipeline(transaction=True)
    pipe.delete(_key(PENDING))
    if counts:
        pipe.hset(_key(PENDING), mapping={str(k): v for k, v in counts.items()})
    pipe.execute()
    return len(counts)


def flush(*, wait_seconds: float = 0) -> int:
    """Write the buffered heartbeats to the database; returns how many devices' states were
    written (0 without Redis, or when another flush holds the lock for longer than
    ``wait_seconds``: the offline check waits, so it never runs beside a batch in flight)."""
    client = _client()
    if client is None:
        return 0
    import time

    import redis

    lock = secrets.token_hex(8)
    deadline = time.monotonic() + wait_seconds
    while not client.set(_key(LOCK), lock, nx=True, ex=300):
        if time.monotonic() >= deadline:
            return 0
        time.sleep(0.2)
    try:
        for name in (STATE, COUNTS):
            if not client.exists(_key(name + FLUSHING)):
                try:
                    client.rename(_key(name), _key(name + FLUSHING))
                except redis.ResponseError:  # nothing buffered
                    pass
        states = client.hgetall(_key(STATE + FLUSHING))
        counts = client.hgetall(_key(COUNTS + FLUSHING))
        if states or counts:
            with transaction.atomic():
                written = _write_states(states)
                _write_counts(counts)
        else:
            written = 0
        client.delete(_key(STATE + FLUSHING), _key(COUNTS + FLUSHING))
        pending_rebuild()
        return written
    finally:
        if client.get(_key(LOCK)) == lock.encode():
            client.delete(_key(LOCK))


def _write_states(raw: dict) -> int:
    latest = {}
    for device_id, payload in raw.items():
        try:
            latest[int(device_id)] = json.loads(payload)
        except (TypeError, ValueError):
            logger.warning("broadcast: unreadable buffered heartbeat for %r", device_id)
    ids = sorted(latest)
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        devices = list(
            Device.objects.filter(pk__in=chunk).only(*STATE_COLUMNS, "offline_alerted_at")
        )
        alerted = [d.pk for d in devices if d.offline_alerted_at is not None]
        for device in devices:
            fields = dict(latest[device.pk])
            seen = datetime.fromisoformat(fields.pop("last_seen_at"))
            if device.last_seen_at is None or seen > device.last_seen_at:
                device.last_seen_at = seen
            for column, value in fields.items():
                setattr(device, column, value)
        _update_devices(devices)
        if alerted:
            now = timezone.now()
            Device.objects.filter(pk__in=alerted).update(offline_alerted_at=None)
            Alert.objects.filter(device_id__in=alerted, closed_at__isnull=True).update(
                closed_at=now
            )
        written += len(devices)
    return written


def _update_devices(devices: list[Device]) -> None:
    if not devices:
        return
    if connection.vendor != "postgresql":
        Device.objects.bulk_update(devices, STATE_COLUMNS, batch_size=200)
        return
    # PostgreSQL: one UPDATE … FROM (VALUES …) per chunk instead of CASE WHEN per column.
    fields = [cast(Field, Device._meta.get_field(c)) for c in STATE_COLUMNS]
    casts = [f"%s::{f.db_type(connection)}" for f in fields]
    row = "(%s::bigint, " + ", ".join(casts) + ")"
    params = []
    for device in devices:
        params.append(device.pk)
        params.extend(f.get_db_prep_save(getattr(device, f.attname), connection) for f in fields)
    columns = ", ".join(str(f.column) for f in fields)
    assign = ", ".join(f"{f.column} = v.{f.column}" for f in fields)
    table = Device._meta.db_table
    values = ", ".join([row] * len(devices))
    # Identifiers come from the model; every value is a parameter.
    sql = f"UPDATE {table} AS d SET {assign} FROM (VALUES {values}) AS v(id, {columns})"  # noqa: S608
    sql += " WHERE d.id = v.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _write_counts(raw: dict) -> None:
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for field, value in raw.items():
        try:
            device_id, day, kind = field.decode().split(":")
            totals[(int(device_id), day)][0 if kind == "h" else 1] += int(value)
        except (ValueError, UnicodeDecodeError):
            logger.warning("broadcast: unreadable buffered heartbeat count %r", field)
    if not totals:
        return
    existing = set(
        Device.objects.filter(pk__in={d for d, _day in totals}).values_list("pk", flat=True)
    )
    rows = [(d, day, h, f) for (d, day), (h, f) in sorted(totals.items()) if d in existing]
    table = connection.ops.quote_name(DeviceDay._meta.db_table)
    # Identifiers come from the model; every value is a parameter.
    upsert = (
        f"ON CONFLICT (device_id, day) DO UPDATE SET heartbeats = {table}.heartbeats"
        f" + excluded.heartbeats, failures = {table}.failures + excluded.failures"
    )
    sql = f"INSERT INTO {table} (device_id, day, heartbeats, failures) VALUES "  # noqa: S608
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + " " + upsert
        params = [
            value
            for device_id, day, hb, fails in chunk
            for value in (
                device_id,
                connection.ops.adapt_datefield_value(date.fromisoformat(day)),
                hb,
                fails,
            )
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql + values, params)
