"""Called by a live broadcast's feeder when it finishes: end the broadcast, archive it."""

from django.core.management.base import BaseCommand

from broadcast.live.feeder import feeder_ended


class Command(BaseCommand):
    help = "End a live broadcast after its feeder finished, and archive its recording."

    def add_arguments(self, parser):
        parser.add_argument("live_id", type=int)
        parser.add_argument("reason")

    def handle(self, *args, live_id, reason, **options):
        live = feeder_ended(live_id=live_id, reason=reason)
        self.stdout.write(
            f"live {live_id}: {reason}; archived item {getattr(live, 'item_id', None)}"
        )
