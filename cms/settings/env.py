"""Small helpers that read one environment variable each; settings read the environment
only through these (and ``os.environ.get`` for plain strings)."""

import os


def env_bool(name: str, default: bool = False) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` (any case) is true; anything else set is false."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]
