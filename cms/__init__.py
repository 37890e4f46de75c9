"""The Django project: settings, URLs, the Celery app, portal pages and dashboards."""

from .celery import app as celery_app

__all__ = ["celery_app"]
