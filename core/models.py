"""Models every layer reads: the publisher's identity (``core.identity``)."""

from .identity import SiteIdentity

__all__ = ["SiteIdentity"]
