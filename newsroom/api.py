"""The intake API: ``POST /api/v1/intake/items`` (mounted in cms/api.py).

Authorization: ``Bearer <intake token>``. Body: JSON, or multipart with the JSON in a
``data`` field and media files in ``audio`` / ``video``. Fields (ninjs-shaped): headline,
body (HTML, cleaned), byline, summary, language, category (slug), unit (official code),
distribution. ``Idempotency-Key`` makes retries safe. Errors: ``{"error", "field"}``.
"""

import hashlib
import json

from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router

from .intake import IntakeError, do_intake, intake_token_check

router = Router(tags=["intake"])


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


@router.post("/items", summary="Send a news item (a draft of the unit) with optional media")
def intake_item(request):
    auth = request.headers.get("Authorization", "")
    raw = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    token = intake_token_check(raw)
    if token is None:
        return JsonResponse(
            {"error": _("Missing or invalid API token."), "field": None}, status=401
        )
    content_type = request.content_type or ""
    try:
        if content_type.startswith("multipart/"):
            text = request.POST.get("data", "")
            files = {k: request.FILES[k] for k in ("audio", "video") if k in request.FILES}
        else:
            text = request.body.decode("utf-8")
            files = {}
        payload = json.loads(text or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(IntakeError(400, _("The body is not valid JSON."), None))
    body_hash = hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        + _files_digest(files).encode()
    ).hexdigest()
    try:
        item, created = do_intake(
            token=token,
            payload=payload,
            files=files,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
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
