"""Every /api/v1/ endpoint fuzzed against its own OpenAPI description (Schemathesis).

For each operation Schemathesis generates requests from the description, valid and
invalid (wrong types, missing fields, strings of every kind, huge numbers); each is sent
through the WSGI application three times: as a loudspeaker (its own device id in the path),
as an intake account (a reporter of commune A) and anonymously. Every answer must be
described by the schema (status, content type, headers, body) and none may be a 5xx.

The budget is ``NGUON_FUZZ_EXAMPLES`` examples per operation (default 20): about 700
requests in all, a minute or two on two cores.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cms.api import api
from newsroom.intake import intake_token_issue
from newsroom.models import Role
from tests.factories import make_device, make_tree, make_user

EXAMPLES = int(os.environ.get("NGUON_FUZZ_EXAMPLES", "20"))

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = WSGIHandler()
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)

# What the issue asks of the fuzzing: no 5xx, nothing the description does not say, and
# invalid input refused. (Schemathesis' other checks judge semantics a schema cannot
# express, e.g. that a well-formed unit code names a unit: they are not run here.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection when a response ends; the test's
    transaction lives on it (Django's test client disconnects the same receivers)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def callers(db):
    units = make_tree(three_level=True)
    device, device_token = make_device(units["A"], "FUZZ-1")
    reporter = make_user("fuzz_reporter", unit=units["A"], role=Role.REPORTER)
    _token, intake_token = intake_token_issue(user=reporter, name="fuzz")
    return {
        "device": (device, {"Authorization": f"Bearer {device_token}"}),
        "intake": (None, {"Authorization": f"Bearer {intake_token}"}),
        "anonymous": (None, {}),
    }


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_api_answer_is_described_and_none_is_a_server_error(case, callers):
    for device, headers in callers.values():
        if device is not None and "device_id" in (case.path_parameters or {}):
            case.path_parameters["device_id"] = device.pk
        # The generated Authorization header (if any) is replaced by the caller's own.
        sent = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**sent, **headers}
        case.call_and_validate(checks=CHECKS)
