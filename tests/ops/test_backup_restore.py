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


# --- hostile backups ------------------------------------------------------------------------


def _backup(tmp_path) -> Path:
    _history(tmp_path)
    out = tmp_path / "backup"
    call_command("backup", output=str(out))
    return out


def _rewrite(out: Path, change, *, sign: bool) -> None:
    """Change the manifest; ``sign`` re-signs it with the site's key (someone who holds the
    key, or a bug of ours: the path checks must hold even then)."""
    import json

    from cms.backup import manifest_signature

    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    if sign:
        manifest["signature"] = manifest_signature(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _restore(tmp_path, out: Path):
    if connection.vendor != "sqlite":
        pytest.skip("restores into a spare SQLite file")
    call_command(
        "restore",
        str(out),
        database=str(tmp_path / "restored.sqlite3"),
        media_root=str(tmp_path / "media-restored"),
        interactive=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_manifest_changed_by_hand_is_refused_before_anything_is_restored(tmp_path):
    out = _backup(tmp_path)
    _rewrite(out, lambda m: m["counts"].update({"newsroom.NewsItem": 3}), sign=False)
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("restore", str(out), verify_only=True)
    with pytest.raises(CommandError, match="signature does not match"):
        _restore(tmp_path, out)
    assert not (tmp_path / "media-restored").exists()
    assert not (tmp_path / "restored.sqlite3").exists()


@pytest.mark.django_db(transaction=True)
def test_a_backup_signed_with_another_key_is_refused(tmp_path, settings):
    out = _backup(tmp_path)
    settings.NGUON_BACKUP_SIGNING_KEY = "another-site-another-key-0123456789abcdef"
    with pytest.raises(CommandError, match="another NGUON_BACKUP_SIGNING_KEY"):
        _restore(tmp_path, out)


@pytest.mark.parametrize(
    "hostile",
    ["media/../../outside.txt", "ABSOLUTE", "media/a/../../../outside.txt"],
)
@pytest.mark.django_db(transaction=True)
def test_restore_keeps_every_path_under_its_root(tmp_path, hostile):
    out = _backup(tmp_path)
    if hostile == "ABSOLUTE":
        hostile = str(tmp_path / "outside.txt")
    payload = b"written where the manifest says"
    digest = hashlib.sha256(payload).hexdigest()
    (out / "media" / "payload").write_bytes(payload)

    def add(manifest):
        manifest["files"][hostile] = {"sha256": digest, "size": len(payload)}

    _rewrite(out, add, sign=True)
    with pytest.raises(CommandError, match="unsafe path"):
        _restore(tmp_path, out)
    assert not (tmp_path / "outside.txt").exists()
    assert not (tmp_path.parent / "outside.txt").exists()
    assert not (tmp_path / "media-restored").exists()


@pytest.mark.django_db(transaction=True)
def test_a_symbolic_link_in_the_backup_is_not_followed_out(tmp_path):
    out = _backup(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the portal")
    manifest = manifest_read(out)
    victim = next(name for name in manifest["files"] if name.startswith("media/"))
    (out / victim).unlink()
    (out / victim).symlink_to(secret)

    def point(m):
        m["files"][victim] = {"sha256": _sha(secret), "size": secret.stat().st_size}

    _rewrite(out, point, sign=True)
    with pytest.raises(CommandError, match="leads out of"):
        _restore(tmp_path, out)
    restored = tmp_path / "media-restored"
    assert not restored.exists() or not any(p.is_file() for p in restored.rglob("*"))


@pytest.mark.django_db(transaction=True)
def test_after_a_restore_nothing_newer_is_answered_from_the_cache(tmp_path):
    from django.core.cache import cache

    out = _backup(tmp_path)
    cache.set("broadcast:timeline-version:1", 42, 3600)  # written after the backup
    _restore(tmp_path, out)
    assert cache.get("broadcast:timeline-version:1") is None


@pytest.mark.django_db(transaction=True)
def test_an_unsigned_backup_from_before_signing_needs_an_explicit_flag(tmp_path):
    out = _backup(tmp_path)
    _rewrite(out, lambda m: m.pop("signature"), sign=False)
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("restore", str(out), verify_only=True)
    call_command("restore", str(out), verify_only=True, accept_unsigned=True)
    # A wrong signature is refused even with the flag.
    _rewrite(out, lambda m: m.update(signature="0" * 64), sign=False)
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("restore", str(out), verify_only=True, accept_unsigned=True)
