"""Operations tests: the ``browser`` service (Debian Chromium for Playwright).

``NGUON_REQUIRE_SERVICES=...,browser`` turns a missing Chromium into a failure, as the root
conftest does for postgres, redis and worker.
"""

import shutil
from pathlib import Path

import pytest

from tests.support import require

from .helpers import CHROMIUM


@pytest.fixture
def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    require("browser", bool(path), f"Chromium is not installed at {CHROMIUM}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require("browser", False, "the playwright package is not installed")
    return path


@pytest.fixture
def artifacts_dir() -> Path:
    """``artifacts/browser/`` in the workspace (CI keeps ``artifacts/``)."""
    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def portal_home(db):
    """The portal's home page (the root conftest recreates it after a flush)."""
    from portal.models import HomePage

    return HomePage.objects.get()
