"""nguon-player: the reference loudspeaker player for Nguồn's open device API."""

__version__ = "0.1.0"
