"""Backup and restore: a database dump plus the media files, with a manifest of checksums.

A backup is a folder::

    nguon-20261122-0830/
      manifest.json        format, time, database vendor, row counts, every file's SHA-256
      database.dump        PostgreSQL: pg_dump custom format (or database.sqlite3 for SQLite)
      media/...            every file of the default storage, same relative paths

PostgreSQL is dumped from an exported snapshot, and the row counts in the manifest are taken
in that same snapshot, so they describe exactly what the dump holds even while editors
work. Restore checks every checksum before touching anything, restores the database and
the files, checks the files again where they landed and compares row counts.

The manifest is signed (HMAC-SHA256 with ``NGUON_BACKUP_SIGNING_KEY``, or ``SECRET_KEY``
when that is empty): a manifest changed by hand, or made by another site, is refused before
anything is read. Every path in it must be relative, without ``..``, and must stay under
the backup folder and under MEDIA_ROOT (no symbolic link leads out either). After a
restore every cache is cleared, so no token or timeline version from after the backup is
answered from memory (restart the web and worker processes too: each keeps a small layer).
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection, connections
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1024 * 1024
# Left-overs of the readiness probe are not content.
SKIP_PREFIXES = ("readyz/",)


class BackupError(Exception):
    """A backup or restore step failed; the message says which and why."""


def _signing_key() -> str:
    return settings.NGUON_BACKUP_SIGNING_KEY or settings.SECRET_KEY


def manifest_signature(manifest: dict) -> str:
    """HMAC-SHA256 of the manifest (every key but ``signature``, canonical JSON)."""
    body = json.dumps(
        {k: v for k, v in manifest.items() if k != "signature"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return salted_hmac(
        "nguon.backup.manifest", body, secret=_signing_key(), algorithm="sha256"
    ).hexdigest()


def safe_relative(rel) -> PurePosixPath:
    """``rel`` as a relative path that cannot leave the folder it is joined to; raise
    BackupError for an absolute path, ``..``, a backslash, a NUL or an empty part."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        raise BackupError(f"unsafe path in the manifest: {rel!r}")
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("", ".", "..") for part in rel.split("/")):
        raise BackupError(f"unsafe path in the manifest: {rel!r}")
    return path


def _inside(root: Path, rel) -> Path:
    """``root / rel``, refused unless it resolves (symbolic links followed) under root."""
    path = Path(root) / safe_relative(rel)
    if not path.resolve().is_relative_to(Path(root).resolve()):
        raise BackupError(f"{rel!r} leads out of {root}")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def counted_tables() -> dict[str, str]:
    """``app_label.Model`` → table, for every concrete table Django manages."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        tables.setdefault(meta.db_table, f"{meta.app_label}.{meta.object_name}")
    return {label: table for table, label in sorted(tables.items(), key=lambda kv: kv[1])}


def _count_rows(conn, cursor, tables: dict[str, str]) -> dict[str, int]:
    counts = {}
    existing = set(conn.introspection.table_names(cursor))
    for label, table in tables.items():
        if table not in existing:
            continue
        cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")  # noqa: S608
        counts[label] = cursor.fetchone()[0]
    return counts


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict, name: str | None = None) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return args + ["-d", name or str(db["NAME"])]


def _client_major(binary: str) -> int:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(match.group(1)) if match else 0


def pg_check_client(binary: str = "pg_dump") -> tuple[int, int]:
    """(client major, server major); a client older than the server cannot dump it."""
    if shutil.which(binary) is None:
        raise BackupError(f"{binary} is not installed (Debian: apt-get install postgresql-client)")
    client = _client_major(binary)
    server = connection.pg_version // 10000
    if binary == "pg_dump" and client < server:
        raise BackupError(
            f"{binary} {client} cannot dump a PostgreSQL {server} server; "
            f"install postgresql-client-{server}"
        )
    return client, server


def _pg_backup(target: Path) -> tuple[str, dict[str, int], dict]:
    db = settings.DATABASES["default"]
    client, server = pg_check_client("pg_dump")
    dump = target / "database.dump"
    tables = counted_tables()
    with connection.cursor() as cursor:
        raw = connection.connection
        # A repeatable-read snapshot shared by pg_dump and the row counts.
        previous_autocommit = raw.autocommit
        raw.autocommit = False
        try:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            proc = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                    *_pg_args(db),
                ],
                env=_pg_env(db),
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise BackupError(f"pg_dump failed: {proc.stderr.strip()[-2000:]}")
            counts = _count_rows(connection, cursor, tables)
        finally:
            raw.rollback()
            raw.autocommit = previous_autocommit
    return dump.name, counts, {"client_major": client, "server_major": server}


def _pg_database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def _pg_create_database(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def _pg_restore(dump: Path, name: str) -> None:
    db = settings.DATABASES["default"]
    pg_check_client("pg_restore")
    proc = subprocess.run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *_pg_args(db, name),
            str(dump),
        ],
        env=_pg_env(db),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()[-2000:]}")


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_backup(target: Path) -> tuple[str, dict[str, int], dict]:
    source = str(settings.DATABASES["default"]["NAME"])
    out = target / "database.sqlite3"
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)  # a consistent copy, even with writers on the WAL
    finally:
        src.close()
        dst.close()
    counts = _sqlite_counts(out)
    return out.name, counts, {"sqlite_version": sqlite3.sqlite_version}


def _sqlite_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        existing = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        counts = {}
        for label, table in counted_tables().items():
            if table in existing:
                counts[label] = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        return counts
    finally:
        conn.close()


def _sqlite_restore(dump: Path, name: str) -> None:
    connections.close_all()
    target = Path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    src = sqlite3.connect(dump)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)


# --- media --------------------------------------------------------------------------------


def _walk_storage(storage, prefix: str = ""):
    dirs, files = storage.listdir(prefix)
    for name in sorted(files):
        yield f"{prefix}{name}"
    for name in sorted(dirs):
        yield from _walk_storage(storage, f"{prefix}{name}/")


def media_names(storage=None) -> list[str]:
    storage = storage or default_storage
    try:
        return [n for n in _walk_storage(storage) if not n.startswith(SKIP_PREFIXES)]
    except FileNotFoundError:
        return []


def _copy_from_storage(storage, name: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with storage.open(name, "rb") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)


# --- commands' entry points ---------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    counts: dict[str, int]
    files: int
    bytes: int


def backup_create(*, output: Path, include_media: bool = True) -> BackupResult:
    """Write a backup folder at ``output`` (must not exist); return what it holds."""
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"{output} exists and is not empty")
    work = Path(tempfile.mkdtemp(prefix=".nguon-backup-", dir=output.parent))
    try:
        vendor = connection.vendor
        if vendor == "postgresql":
            db_file, counts, versions = _pg_backup(work)
        elif vendor == "sqlite":
            db_file, counts, versions = _sqlite_backup(work)
        else:
            raise BackupError(f"no backup method for the {vendor} database")
        if include_media:
            for name in media_names():
                _copy_from_storage(default_storage, name, work / "media" / name)
        files = {}
        total = 0
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            rel = path.relative_to(work).as_posix()
            size = path.stat().st_size
            files[rel] = {"sha256": sha256_file(path), "size": size}
            total += size
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": {"vendor": vendor, "file": db_file, **versions},
            "media": include_media,
            "counts": counts,
            "files": files,
        }
        manifest["signature"] = manifest_signature(manifest)
        (work / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        if output.exists():
            output.rmdir()
        os.replace(work, output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(output, counts, len(files), total)


def manifest_read(folder: Path, *, allow_unsigned: bool = False) -> dict:
    """The folder's manifest, its signature verified (``allow_unsigned``: a manifest with no
    signature at all, from before signing, is accepted; a wrong one never is) and its paths
    checked."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise BackupError(f"{path} is missing: not a Nguồn backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not a readable manifest: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise BackupError(f"unknown backup format {found!r}")
    signature = manifest.get("signature")
    if signature is None and allow_unsigned:
        pass
    elif not isinstance(signature, str) or not constant_time_compare(
        signature, manifest_signature(manifest)
    ):
        raise BackupError(
            f"{path}: the signature does not match: the manifest was changed, or the backup "
            "was made with another NGUON_BACKUP_SIGNING_KEY / SECRET_KEY; nothing restored"
        )
    files = manifest.get("files")
    database = manifest.get("database")
    if not isinstance(files, dict) or not isinstance(database, dict):
        raise BackupError(f"{path}: no file list or database entry")
    for rel in files:
        safe_relative(rel)
    db_file = database.get("file")
    if db_file not in files or "/" in str(db_file):
        raise BackupError(f"unsafe database file in the manifest: {db_file!r}")
    return manifest


def backup_verify(folder: Path, *, allow_unsigned: bool = False) -> list[str]:
    """Every problem with the folder's files (missing, size, checksum); empty when sound."""
    folder = Path(folder)
    manifest = manifest_read(folder, allow_unsigned=allow_unsigned)
    problems = []
    for rel, meta in manifest["files"].items():
        try:
            path = _inside(folder, rel)
        except BackupError as exc:
            problems.append(str(exc))
            continue
        if path.is_symlink() or not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != meta["size"]:
            problems.append(f"{rel}: size {path.stat().st_size} != {meta['size']}")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"{rel}: SHA-256 does not match the manifest")
    return problems


def database_counts(*, name: str | None = None) -> dict[str, int]:
    """Row counts of a database on the configured server (``name`` defaults to the current)."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return _sqlite_counts(Path(name or db["NAME"]))
    import psycopg

    params = {
        "dbname": name or db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    quote = connection.ops.quote_name
    counts = {}
    with psycopg.connect(**{k: v for k, v in params.items() if v}) as conn:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            existing = {row[0] for row in cursor.fetchall()}
            for label, table in counted_tables().items():
                if table in existing:
                    cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608
                    counts[label] = cursor.fetchone()[0]
    return counts


@dataclass
class RestoreResult:
    database: str
    files: int
    counts: dict[str, int]


def backup_restore(
    *,
    folder: Path,
    database: str | None = None,
    media_root: Path | None = None,
    create_database: bool = False,
    include_media: bool = True,
    allow_unsigned: bool = False,
) -> RestoreResult:
    """Verify the backup, restore the database into ``database`` (default: the configured
    one) and the files under ``media_root`` (default: MEDIA_ROOT), then check both."""
    folder = Path(folder)
    manifest = manifest_read(folder, allow_unsigned=allow_unsigned)
    problems = backup_verify(folder, allow_unsigned=allow_unsigned)
    if problems:
        raise BackupError("backup is damaged, nothing restored:\n  " + "\n  ".join(problems))
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"backup is of a {vendor} database, this site runs {connection.vendor}")
    dump = folder / manifest["database"]["file"]
    target = database or str(settings.DATABASES["default"]["NAME"])
    if vendor == "postgresql":
        if not _pg_database_exists(target):
            if not create_database:
                raise BackupError(f"database {target} does not exist (use --create-database)")
            _pg_create_database(target)
        _pg_restore(dump, target)
    else:
        _sqlite_restore(dump, target)

    restored_files = 0
    if include_media and manifest.get("media"):
        # An object store (S3) has no local folder: files go back through the storage API
        # under their own names, unless a folder is named explicitly.
        into_storage = media_root is None and not isinstance(default_storage, FileSystemStorage)
        root = Path(media_root or settings.MEDIA_ROOT)
        for rel, meta in manifest["files"].items():
            if not rel.startswith("media/"):
                continue
            if into_storage:
                _restore_into_storage(folder / rel, rel.removeprefix("media/"), meta["sha256"])
                restored_files += 1
                continue
            dest = _inside(root, rel.removeprefix("media/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".restoring")
            shutil.copyfile(folder / rel, tmp)
            os.replace(tmp, dest)
            if sha256_file(dest) != meta["sha256"]:
                raise BackupError(f"{dest}: checksum differs after copying")
            restored_files += 1

    counts = database_counts(name=target)
    expected = manifest["counts"]
    differing = {
        label: (expected[label], counts.get(label))
        for label in expected
        if counts.get(label) != expected[label]
    }
    caches_clear()
    if differing:
        lines = [f"{label}: expected {a}, found {b}" for label, (a, b) in differing.items()]
        raise BackupError("row counts differ after restore:\n  " + "\n  ".join(lines))
    return RestoreResult(target, restored_files, counts)


def _restore_into_storage(source: Path, name: str, sha256: str) -> None:
    """Put ``source`` at storage ``name`` exactly (replacing what is there), then read it
    back and compare checksums."""
    name = str(safe_relative(name))
    if default_storage.exists(name):
        default_storage.delete(name)
    with open(source, "rb") as fh:
        saved = default_storage.save(name, File(fh))
    if saved != name:
        raise BackupError(f"{name}: the storage stored it as {saved}")
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise BackupError(f"{name}: checksum differs after copying into the storage")


def caches_clear() -> None:
    """Empty every configured cache: what they hold (device tokens, timeline versions, feed
    validators, throttling counters) may describe data newer than the restored database."""
    for alias in settings.CACHES:
        caches[alias].clear()
