"""The player's durable state in one SQLite file: play-log spool, last timeline, settings.

Every play event is a row written when its first sound plays, updated as it plays and
closed when it ends; rows are uploaded in batches and marked sent only after the server
answered. An event's id is stable, and the server stores an id once, so a crash between
the answer and the mark resends it harmlessly: each event reaches the server exactly once.
After a SIGKILL, events left "playing" are closed as interrupted with the duration last
written (at most one second short).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    entry_key TEXT NOT NULL,
    final INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,               -- playing | ready | sent
    event TEXT NOT NULL,               -- JSON for POST /playlogs
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_state ON events (state);
CREATE INDEX IF NOT EXISTS events_key ON events (entry_key);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # survive power loss, not just a kill
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # key-value --------------------------------------------------------------------------

    def get(self, key: str, default=None):
        with self._lock:
            row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, ensure_ascii=False)),
            )

    # play events ------------------------------------------------------------------------

    def recover(self) -> int:
        """Close events a killed process left playing (interrupted, not final: the entry
        resumes if it is still on air). Returns how many."""
        with self._lock:
            rows = self.db.execute(
                "SELECT id, event FROM events WHERE state = 'playing'"
            ).fetchall()
            for event_id, raw in rows:
                event = json.loads(raw)
                event["status"] = "interrupted"
                self.db.execute(
                    "UPDATE events SET state = 'ready', event = ?, updated = ? WHERE id = ?",
                    (json.dumps(event), time.time(), event_id),
                )
        return len(rows)

    def attempts(self, entry_key: str) -> tuple[int, bool]:
        """(events so far for this entry occurrence, whether one of them was final)."""
        with self._lock:
            n, final = self.db.execute(
                "SELECT COUNT(*), COALESCE(MAX(final), 0) FROM events WHERE entry_key = ?",
                (entry_key,),
            ).fetchone()
        return n, bool(final)

    def finished_keys(self) -> set[str]:
        with self._lock:
            rows = self.db.execute("SELECT DISTINCT entry_key FROM events WHERE final = 1")
            return {r[0] for r in rows}

    def begin(self, entry_key: str, event: dict) -> None:
        with self._lock:
            self.db.execute(
                "INSERT OR IGNORE INTO events (id, entry_key, state, event, updated) "
                "VALUES (?, ?, 'playing', ?, ?)",
                (event["id"], entry_key, json.dumps(event), time.time()),
            )

    def progress(self, event_id: str, duration: float) -> None:
        with self._lock:
            row = self.db.execute(
                "SELECT event FROM events WHERE id = ? AND state = 'playing'", (event_id,)
            ).fetchone()
            if row:
                event = json.loads(row[0])
                event["duration"] = round(duration, 3)
                self.db.execute(
                    "UPDATE events SET event = ?, updated = ? WHERE id = ?",
                    (json.dumps(event), time.time(), event_id),
                )

    def finish(self, event_id: str, *, duration: float, status: str, final: bool) -> None:
        with self._lock:
            row = self.db.execute("SELECT event FROM events WHERE id = ?", (event_id,)).fetchone()
            if not row:
                return
            event = json.loads(row[0])
            event["duration"] = round(duration, 3)
            event["status"] = status
            self.db.execute(
                "UPDATE events SET event = ?, state = 'ready', final = ?, updated = ? WHERE id = ?",
                (json.dumps(event), int(final), time.time(), event_id),
            )

    def ready(self, limit: int = 500) -> list[dict]:
        with self._lock:
            rows = self.db.execute(
                "SELECT event FROM events WHERE state = 'ready' ORDER BY updated LIMIT ?",
                (limit,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def mark_sent(self, ids: list[str]) -> None:
        with self._lock:
            self.db.executemany(
                "UPDATE events SET state = 'sent' WHERE id = ?", [(i,) for i in ids]
            )

    def prune(self, older_than: float) -> None:
        """Forget sent events older than ``older_than`` (their entries are long over)."""
        with self._lock:
            self.db.execute(
                "DELETE FROM events WHERE state = 'sent' AND updated < ?", (older_than,)
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT state, COUNT(*) FROM events GROUP BY state")
            return dict(rows.fetchall())
