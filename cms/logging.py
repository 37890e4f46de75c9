"""Log records that say which request or task they belong to, as text or one JSON per line.

``ContextFilter`` stamps every record with ``request_id`` (set by
``cms.middleware.RequestIDMiddleware`` for the current request, or carried into a Celery task
by the ``request_id`` message header) and ``task_id`` / ``task_name`` when the record is
written inside a Celery task. ``JsonFormatter`` writes those fields and the message as one
JSON object per line (``LOG_FORMAT=json``), which log shippers read without parsing rules.
"""

import contextvars
import datetime
import json
import logging
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is kept.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def new_request_id() -> str:
    return uuid.uuid4().hex


def _current_task():
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    task = current_task
    if task is None or not getattr(task, "request", None) or task.request.id is None:
        return None
    return task


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` to every record (empty if none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = _current_task()
        task_id = task_name = ""
        request_id = request_id_var.get()
        if task is not None:
            task_id = task.request.id or ""
            task_name = task.name or ""
            request_id = request_id or (getattr(task.request, "request_id", None) or "")
        if not getattr(record, "request_id", ""):
            record.request_id = request_id
        if not getattr(record, "task_id", ""):
            record.task_id = task_id
        if not getattr(record, "task_name", ""):
            record.task_name = task_name
        parts = [f"req={record.request_id}" if record.request_id else ""]
        parts.append(f"task={record.task_id}" if record.task_id else "")
        record.context = "[" + " ".join(p for p in parts if p) + "] " if any(parts) else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id", "task_name"):
            value = getattr(record, key, "")
            if value:
                payload[key] = value
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key in payload or key.startswith("_"):
                continue
            if key in {"request_id", "task_id", "task_name", "context", "request", "server_time"}:
                continue
            payload[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING dict for ``LOG_FORMAT`` ``text`` (default) or ``json``."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "cms.logging.ContextFilter"},
            "without_traceback": {"()": "cms.errors.WithoutTraceback"},
        },
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"},
            "json": {"()": "cms.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": formatter,
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django_tasks": {"level": "WARNING"},
            "wagtail": {"level": "WARNING"},
            # A body over the limit is answered 413 (cms.errors): one line, no stack.
            "django.security.RequestDataTooBig": {"filters": ["without_traceback"]},
        },
    }


def _on_before_task_publish(headers=None, **kwargs):
    """Carry the request id of the web request that queued a task into the task."""
    request_id = request_id_var.get() or ""
    if not request_id:
        task = _current_task()
        request_id = getattr(task.request, "request_id", "") if task is not None else ""
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish

    before_task_publish.connect(_on_before_task_publish, weak=False, dispatch_uid="nguon-rid")


# Every process that configures logging (web, worker, beat, management commands) imports
# this module, so the header travels whichever process queues the task.
connect_celery_signals()
