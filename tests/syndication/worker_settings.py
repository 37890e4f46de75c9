"""Settings for the worker and beat processes the outage test starts: the test settings,
but tasks go through the broker (not eager) and beat only runs the delivery sweeper."""

import os

from cms.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    "syndication-deliveries-sweep": {
        "task": "syndication.tasks.deliveries_sweep",
        "schedule": float(os.environ.get("SYNDICATION_SWEEP_SECONDS", "1")),
    }
}
