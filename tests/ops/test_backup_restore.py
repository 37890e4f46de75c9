"""Backup and restore drill: back up, restore into a fresh database and folder, compare."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from cms.backup import database_counts, manifest_read
from newsroom.models import NewsItem
from tests.factories import make_audio_asset, make_published_item, make_tree


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _media_checksums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _sha(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith("readyz/")
    }


def _history(tmp_path):
    units = make_tree(three_level=True)
    asset = make_audio_asset(tmp_path / "src", seconds=1.0)
    make_published_item(units["A"], "Bản tin tiêm chủng xã Tân Đồng", audio=asset)
    make_published_item(units["B"], "Xã Tân Bình ra quân làm sạch môi trường")
    return units


def _drill(tmp_path, target_db: str):
    _history(tmp_path)
    media_before = _media_checksums(Path(settings.MEDIA_ROOT))
    assert len(media_before) >= 2  # the upload and its loudspeaker MP3
    counts_before = database_counts()

    out = tmp_path / "backup"
    call_command("backup", output=str(out))
    manifest = manifest_read(out)
    assert manifest["counts"]["newsroom.NewsItem"] == 2
    assert manifest["counts"] == counts_before
    assert {f"media/{name}" for name in media_before} <= set(manifest["files"])

    fresh_media = tmp_path / "media-restored"
    call_command(
        "restore",
        str(out),
        database=target_db,
        create_database=True,
        media_root=str(fresh_media),
        interactive=False,
    )
    assert database_counts(name=target_db) == counts_before
    assert _media_checksums(fresh_media) == media_before
    return out


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_restore_drill_on_postgresql(tmp_path):
    target = f"{settings.DATABASES['default']['NAME']}_restore"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
    try:
        _drill(tmp_path, target)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restore_drill_on_sqlite(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite drill runs when DATABASE_URL is unset")
    _drill(tmp_path, str(tmp_path / "restored.sqlite3"))


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_tampered_backup_and_restores_nothing(tmp_path):
    _history(tmp_path)
    out = tmp_path / "backup"
    call_command("backup", output=str(out))
    manifest = manifest_read(out)
    victim = next(name for name in manifest["files"] if name.startswith("media/"))
    damaged = bytearray((out / victim).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte, same size
    (out / victim).write_bytes(bytes(damaged))
    with pytest.raises(CommandError, match="SHA-256"):
        call_command("restore", str(out), verify_only=True)
    fresh_media = tmp_path / "media-restored"
    with pytest.raises(CommandError, match="damaged"):
        call_command(
            "restore",
            str(out),
            database=str(tmp_path / "never.sqlite3")
            if connection.vendor == "sqlite"
            else f"{settings.DATABASES['default']['NAME']}_never"[:63],
            media_root=str(fresh_media),
            interactive=False,
        )
    assert not fresh_media.exists()
    assert NewsItem.objects.count() == 2  # the live database is untouched
