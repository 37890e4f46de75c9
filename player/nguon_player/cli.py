"""``nguon-player [--config FILE] [--check]``: run the player (a systemd service).

Logs go to stderr, which systemd sends to the journal (``journalctl -u nguon-player``).
Exit status: 0 after SIGTERM/SIGINT, 2 on a bad configuration (the message says which
settings), 3 when the audio output or ffmpeg cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from . import __version__
from .audio import AudioError
from .config import ConfigError, load

DEFAULT_CONFIG = "/etc/nguon-player/config.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nguon-player", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config",
        default=os.environ.get("NGUON_PLAYER_CONFIG", DEFAULT_CONFIG),
        help=f"TOML configuration (default {DEFAULT_CONFIG}, or $NGUON_PLAYER_CONFIG)",
    )
    parser.add_argument("--check", action="store_true", help="check the configuration and exit")
    parser.add_argument("--log-level", default=os.environ.get("NGUON_PLAYER_LOG_LEVEL", "INFO"))
    parser.add_argument("--version", action="version", version=f"nguon-player {__version__}")
    args = parser.parse_args(argv)
    under_systemd = bool(os.environ.get("JOURNAL_STREAM"))
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        # The journal stamps each line itself.
        format="%(levelname)s %(name)s: %(message)s"
        if under_systemd
        else "%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"nguon-player: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"nguon-player: {args.config} is valid (device {config.device_id})")
        return 0
    from .player import Player

    try:
        player = Player(config)
    except AudioError as exc:
        print(f"nguon-player: {exc}", file=sys.stderr)
        return 3

    def stop(signum, _frame):
        logging.getLogger("nguon_player").info("signal %s: stopping", signum)
        player.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    player.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
