"""Media test fixtures: a private MEDIA_ROOT per test, and processing run at once. The
helpers (lavfi sources, independent checks of what comes out) are in ``helpers.py``."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    settings.NGUON_MEDIA_WORK_DIR = str(tmp_path / "media-work")
    return settings.MEDIA_ROOT


@pytest.fixture
def process_now(django_capture_on_commit_callbacks):
    """Create an asset and run its queued processing (eager Celery) before returning."""
    from media.services import asset_create
    from tests.factories import make_upload

    def create(path: Path, *, kind: str = "audio", name: str | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            asset = asset_create(upload=make_upload(path, name=name), kind=kind)
        asset.refresh_from_db()
        return asset

    return create
