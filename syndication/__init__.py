"""Feeds (RSS, Atom, podcast), the ninjs API, subscribers and pushes."""
