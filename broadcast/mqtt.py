"""MQTT push: commands and emergency starts on a per-device topic.

``MQTT_URL`` (``mqtt://user:password@host:1883``; unset = push disabled) names the broker.
Each device subscribes to ``<BROADCAST_MQTT_TOPIC_PREFIX>/<device id>/commands`` with its own
credentials; the broker's ACL lets it read only that topic (see docs/broadcast.md). The
message is the same JSON the device gets from ``GET /commands``; polling stays the fallback.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlparse

from django.conf import settings


class MQTTUnavailable(Exception):
    """The broker could not be reached or did not confirm (temporary: retried)."""


def enabled() -> bool:
    return bool(settings.MQTT_URL)


def device_topic(device_id: int) -> str:
    return f"{settings.BROADCAST_MQTT_TOPIC_PREFIX}/{device_id}/commands"


def broker_params(url: str | None = None) -> dict:
    parsed = urlparse(url or settings.MQTT_URL)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or (8883 if parsed.scheme == "mqtts" else 1883),
        "username": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "tls": parsed.scheme == "mqtts",
    }


def make_client(client_id: str = "", url: str | None = None):
    import paho.mqtt.client as mqtt

    params = broker_params(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    if params["username"]:
        client.username_pw_set(params["username"], params["password"])
    if params["tls"]:
        client.tls_set()
    return client, params


def publish_many(messages: list[tuple[str, dict]], *, timeout: float = 10.0) -> int:
    """Publish ``(topic, payload)`` pairs with QoS 1 and wait for the broker's acks."""
    if not messages:
        return 0
    client, params = make_client()
    try:
        client.connect(params["host"], params["port"], keepalive=30)
    except OSError as exc:
        raise MQTTUnavailable(str(exc)) from exc
    client.loop_start()
    try:
        infos = [
            client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)
            for topic, payload in messages
        ]
        for info in infos:
            info.wait_for_publish(timeout=timeout)
            if not info.is_published():
                raise MQTTUnavailable("the broker did not acknowledge a message")
    finally:
        client.disconnect()
        client.loop_stop()
    return len(messages)
