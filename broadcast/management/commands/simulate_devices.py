"""Simulate loudspeakers against a running server (see ``broadcast.simulator``): each
runs the reference player's protocol code (``nguon_player.protocol``) without audio.

    manage.py simulate_devices --clusters 20 --minutes 5 --base-url http://127.0.0.1:8000

Creates (or reuses) ``--clusters`` simulated clusters with one loudspeaker each in
``--commune`` (default: the first commune), issues them fresh tokens, then behaves like the
devices for ``--minutes`` minutes (``--tick-seconds`` of real time each) and prints what
happened. ``MQTT_URL`` (or ``--mqtt-url``) makes them subscribe to their MQTT topics.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from broadcast.simulator import Simulator, create_fleet
from newsroom.models import AdministrativeUnit


class Command(BaseCommand):
    help = "Simulate N loudspeaker clusters polling, downloading, reporting for M minutes."

    def add_arguments(self, parser):
        parser.add_argument("--clusters", type=int, default=10)
        parser.add_argument("--minutes", type=int, default=1)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--commune", help="official code of the commune (default: first)")
        parser.add_argument("--tick-seconds", type=float, default=60.0)
        parser.add_argument("--workers", type=int, default=8)
        parser.add_argument("--mqtt-url", default=None, help="default: the MQTT_URL setting")
        parser.add_argument("--prefix", default="SIM", help="serial prefix of simulated devices")

    def handle(self, *args, **opts):
        if opts["clusters"] < 1 or opts["minutes"] < 1:
            raise CommandError("--clusters and --minutes must be at least 1")
        commune = None
        if opts["commune"]:
            commune = AdministrativeUnit.objects.filter(code=opts["commune"]).first()
            if commune is None:
                raise CommandError(f"no unit with code {opts['commune']}")
        try:
            fleet = create_fleet(clusters=opts["clusters"], commune=commune, prefix=opts["prefix"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        mqtt_url = settings.MQTT_URL if opts["mqtt_url"] is None else opts["mqtt_url"]
        simulator = Simulator(
            base_url=opts["base_url"],
            devices=fleet,
            mqtt_url=mqtt_url,
            topic_prefix=settings.BROADCAST_MQTT_TOPIC_PREFIX,
            workers=opts["workers"],
        )
        stats = simulator.run(minutes=opts["minutes"], tick_seconds=opts["tick_seconds"])
        self.stdout.write(f"{'counter':<28} {'value':>10}")
        for key in sorted(stats):
            self.stdout.write(f"{key:<28} {stats[key]:>10}")
        self.simulator = simulator
        return None
