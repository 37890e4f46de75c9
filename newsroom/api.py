"""The intake API: ``POST /api/v1/intake/items`` (mounted in cms/api.py).

Authorization: ``Bearer <intake token>``. Body: JSON, or multipart with the JSON in a
``data`` field and media files in ``audio`` / ``video``. Fields (ninjs-shaped): headline,
body (HTML, cleaned), byline, summary, language, category (slug), unit (official code),
distribution. ``Idempotency-Key`` makes retries safe. Errors: ``{"error", "field"}``.
"""

import hashlib
import json

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Router
from ninja.security import HttpBearer

from core.openapi import header, operation

from .intake import IntakeError, IntakeIn, IntakeOut, do_intake, intake_token_check


class IntakeToken(HttpBearer):
    """``Authorization: Bearer <intake token>`` (issued per user in the admin)."""

    def authenticate(self, request, token):
        return intake_token_check(token.strip())


router = Router(tags=["intake"], auth=IntakeToken())

IDEMPOTENCY_KEY_MAX = 255


class IntakeMultiPartParser(MultiPartParser):
    """Django's parser, except that a file whose name sanitises to nothing (``..``, ``.``,
    only control characters) is kept, named ``...`` (a name Django's files accept and the
    media checks refuse), instead of vanishing: it is refused in Vietnamese (422 naming the
    field) rather than the item being created without it. Django calls this only for a
    non-empty name (an empty one is no file)."""

    def sanitize_file_name(self, file_name):
        return super().sanitize_file_name(file_name) or "..."


def _error(exc: IntakeError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def _files_digest(files) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        upload = files[name]
        digest.update(name.encode())
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
    return digest.hexdigest()


_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": IntakeIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "description": "the same JSON object as an application/json body",
                    },
                    "audio": {"type": "string", "format": "binary"},
                    "video": {"type": "string", "format": "binary"},
                },
                "required": ["data"],
            }
        },
    },
}


@router.post(
    "/items",
    response={200: IntakeOut, 201: IntakeOut},
    summary="Send a news item (a draft of the unit) with optional media",
    openapi_extra=operation(
        errors=(400, 401, 403, 409, 413, 422),
        parameters=[
            header(
                "Idempotency-Key",
                "makes a retry safe: the same key and body answer the same item (200); the "
                "same key with another body is a 409; longer than 255 characters is a 400",
                max_length=IDEMPOTENCY_KEY_MAX,
            )
        ],
        request_body=_REQUEST_BODY,
        responses={
            200: {"description": "The item this Idempotency-Key created before"},
            201: {"description": "Created"},
        },
    ),
)
def intake_item(request):
    token = request.auth
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        return _error(
            IntakeError(
                400,
                _("The Idempotency-Key is longer than %(n)d characters.")
                % {"n": IDEMPOTENCY_KEY_MAX},
                "Idempotency-Key",
            )
        )
    if "\x00" in key:
        return _error(IntakeError(400, _("This text contains a NUL character."), "Idempotency-Key"))
    content_type = request.content_type or ""
    try:
        if content_type.startswith("multipart/"):
            parser = IntakeMultiPartParser(
                request.META, request, request.upload_handlers, request.encoding
            )
            post, uploaded = parser.parse()
            text = post.get("data", "")
            files = {k: uploaded[k] for k in ("audio", "video") if k in uploaded}
        else:
            text = request.body.decode("utf-8")
            files = {}
        payload = json.loads(text or "null")
        # A lone surrogate ("\ud800") is valid JSON but no text: refuse it here.
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, json.JSONDecodeError, MultiPartParserError, RecursionError):
        return _error(IntakeError(400, _("The body is not valid JSON."), None))
    body_hash = hashlib.sha256(canonical + _files_digest(files).encode()).hexdigest()
    try:
        item, created = do_intake(
            token=token,
            payload=payload,
            files=files,
            idempotency_key=key,
            body_hash=body_hash,
        )
    except IntakeError as exc:
        return _error(exc)
    return JsonResponse(
        {
            "uri": f"urn:nguon:item:{item.uuid}",
            "id": item.pk,
            "guid": str(item.uuid),
            "headline": item.headline,
            "unit": item.unit.code,
            "pubstatus": item.pubstatus,
            "audio": item.audio_id,
            "video": item.video_id,
        },
        status=201 if created else 200,
    )
