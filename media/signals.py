"""Events the media pipeline announces to other apps.

``renditions_ready(sender=MediaAsset, asset_id, profiles)`` is sent after the transaction
that marked renditions ready commits (the pipeline updates rows in bulk, so no
``post_save`` is sent for them). The loudspeaker timelines listen to it: an item scheduled
while its MP3 was still being made reaches the devices once the MP3 exists.
"""

from django.dispatch import Signal

renditions_ready = Signal()
