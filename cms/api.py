"""The public HTTP API at /api/v1/ (OpenAPI at /api/v1/docs). Routers live in their apps."""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from broadcast.device_api.api import router as devices_router
from newsroom.api import router as intake_router
from search.api import router as search_router
from syndication.api import router as items_router

api = NinjaAPI(
    title="Nguồn API",
    version="1",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/devices/", devices_router)
api.add_router("/intake/", intake_router)
api.add_router("/search/", search_router)
api.add_router("/items/", items_router)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    if request.path.startswith("/api/v1/intake/"):
        message = _("Missing or invalid API token.")
    else:
        message = _("Missing or invalid device token.")
    return api.create_response(request, {"error": message, "field": None}, status=401)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"error": _("Not found.")}, status=404)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return api.create_response(request, {"error": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(
        request, {"error": _("Invalid request."), "detail": exc.errors}, status=422
    )
