"""Writes for loudspeakers: device tokens."""

import hashlib
import secrets

from .models import Device


def token_digest(token: str) -> str:
    # Tokens are 256-bit random values, so a fast digest is enough (no password stretching).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def device_token_issue(*, device: Device, token: str | None = None) -> str:
    """Give the device a new token (revoking the old one) and return it; it is shown once."""
    token = token or secrets.token_urlsafe(32)
    device.token_hash = token_digest(token)
    device.token_prefix = token[:8]
    device.save(update_fields=["token_hash", "token_prefix"])
    return token
