"""Device token digests (kept apart so selectors and services can both use them)."""

import hashlib


def token_digest(token: str) -> str:
    # Tokens are 256-bit random values, so a fast digest is enough (no password stretching).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
