"""Celery tasks of the ``broadcast`` queue: MQTT pushes, offline alerts, TTS rendering.

Tasks take ids, re-fetch, return quietly when rows are gone and are safe to replay.
"""

import logging

from celery import shared_task
from django.utils import timezone

from . import mqtt, services
from .commands import command_message
from .device_api import heartbeats
from .models import Command

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(mqtt.MQTTUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=150,
)
def commands_push(self, command_ids: list[int]) -> int:
    """Publish the commands on their devices' topics (QoS 1); unacknowledged ones only."""
    if not mqtt.enabled():
        return 0
    commands = list(Command.objects.filter(pk__in=command_ids, acknowledged_at__isnull=True))
    sent = mqtt.publish_many(
        [(mqtt.device_topic(c.device_id), command_message(c)) for c in commands]
    )
    Command.objects.filter(pk__in=[c.pk for c in commands]).update(pushed_at=timezone.now())
    return sent


@shared_task(soft_time_limit=120, time_limit=150)
def devices_check_offline() -> int:
    opened = services.devices_check_offline()
    if opened:
        logger.warning("broadcast: %s device(s) offline longer than the alert limit", opened)
    return opened


@shared_task(soft_time_limit=120, time_limit=150)
def heartbeats_flush() -> int:
    """Write the heartbeats buffered in Redis to the database (see ``heartbeats``)."""
    return heartbeats.flush()


@shared_task(soft_time_limit=300, time_limit=330)
def slot_tts_render(slot_id: int) -> bool:
    return services.slot_tts_render(slot_id=slot_id)


@shared_task(soft_time_limit=60, time_limit=90)
def relays_check() -> int:
    """Alerts for relays without source or silent too long (beat, every 15 s)."""
    from .live.relays import relays_check as check

    return len(check())
