"""The broadcast app's reads, by area (this module only re-exports them):

- compile (``reach``, ``compile``): device timelines, for the device API and for reports;
- programmes (``programmes.selectors``): offered items, conflicts, lists, emergencies;
- monitoring (``monitoring``): devices, alerts, proof of play, uptime (the reports app).
"""

from .monitoring import (
    alert_list_open,
    device_is_online,
    device_list_monitoring,
    device_uptime_summary,
    playback_summary,
    proof_of_play,
)
from .programmes.selectors import (
    emergency_list_active,
    items_offered,
    programme_list_for_units,
    programme_playlist_problems,
    schedule_conflicts,
)
from .reach import device_timeline_data, timeline_for_clusters
from .registry import devices_for_targets

__all__ = [
    "alert_list_open",
    "device_is_online",
    "device_list_monitoring",
    "device_timeline_data",
    "device_uptime_summary",
    "devices_for_targets",
    "emergency_list_active",
    "items_offered",
    "playback_summary",
    "programme_list_for_units",
    "programme_playlist_problems",
    "proof_of_play",
    "schedule_conflicts",
    "timeline_for_clusters",
]
