"""Helpers for the player tests: broadcast services by name, a programme on the test
commune, a rendition decoded as the player decodes it."""

import importlib


def server_api(name: str):
    """A broadcast service by name, wherever the app keeps it (it is being split)."""
    for module in ("broadcast.services", "broadcast.programmes.services", "broadcast.commands",
                   "broadcast.registry"):  # fmt: skip
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise ImportError(name)


def schedule(commune, *, name: str, at, items: list[str]):
    """A one-off normal programme on the commune's cluster, made by its scheduler."""
    return server_api("programme_create")(
        user=commune["scheduler"],
        name=name,
        targets=[{"cluster": commune["cluster"]}],
        slots=[{"starts_at": at, "items": [commune["items"][n].pk for n in items]}],
    )


def rendition_pcm(item) -> bytes:
    """The loudspeaker MP3 of ``item`` decoded as the player decodes it."""
    from nguon_player.audio import decode_all, ffmpeg_binary

    rendition = item.audio.rendition("loudspeaker")
    return decode_all(ffmpeg_binary(), rendition.file.path)
