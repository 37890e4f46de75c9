"""The broadcast app's writes, by area (this module only re-exports them):

- registry (``registry``): device tokens, cluster invalidation;
- programmes (``programmes.services``, ``programmes.validation``): create, revise, stop,
  emergencies, TTS rendering;
- commands (``commands``): operators' orders and devices' acknowledgements;
- device API (``device_api.heartbeats``, ``device_api.playlogs``): what devices send;
- monitoring (``monitoring``): offline alerts.
"""

from .commands import command_acknowledge, command_issue, commands_create, commands_pending_count
from .device_api.heartbeats import heartbeat_record
from .device_api.playlogs import playlogs_record
from .monitoring import devices_check_offline
from .programmes.services import (
    emergency_start,
    items_invalidate,
    programme_create,
    programme_revise,
    programme_stop,
    programmes_invalidate,
    slot_tts_render,
    user_can_manage_programme,
)
from .programmes.validation import programme_check, slot_check
from .registry import (
    clusters_invalidate,
    device_token_issue,
    device_token_revoke,
    now_and_on_commit,
)

__all__ = [
    "clusters_invalidate",
    "command_acknowledge",
    "command_issue",
    "commands_create",
    "commands_pending_count",
    "device_token_issue",
    "device_token_revoke",
    "devices_check_offline",
    "emergency_start",
    "heartbeat_record",
    "items_invalidate",
    "now_and_on_commit",
    "playlogs_record",
    "programme_check",
    "programme_create",
    "programme_revise",
    "programme_stop",
    "programmes_invalidate",
    "slot_check",
    "slot_tts_render",
    "user_can_manage_programme",
]
