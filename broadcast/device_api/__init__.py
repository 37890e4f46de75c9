"""The open device API: the views (``api``), the fast path for unchanged timelines and
heartbeats (``middleware``), what both speak (``protocol``), the cache that answers a 304
without the database (``cache``), and what devices send (``heartbeats``, ``playlogs``)."""
