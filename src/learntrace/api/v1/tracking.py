"""The beat the video and document player sends while someone learns (see
docs/tracking-protocol.md). Browser only: the session cookie with the CSRF token."""


from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from learntrace.api.v1.auth import session
from learntrace.api.v1.errors import ERROR_STATUSES, ApiError, ErrorOut, invalid
from learntrace.tracking import services

router = Router(tags=["tracking"])

BEAT_SCHEMA = {
    "type": "object", "required": ["attempt", "beat"],
    "properties": {
        "attempt": {"type": "string", "format": "uuid",
                    "description": "From POST /tracking/courses/{id}/attempts/."},
        "beat": {"type": "object", "required": ["seq"], "properties": {
            "seq": {"type": "integer", "minimum": 0, "description": "(attempt, seq) is the idempotency key."},
            "segments": {"type": "array", "items": {"type": "array", "items": {"type": "number"}},
                         "description": "Media seconds played since the last beat, [start, end] pairs."},
            "reading_ms": {"type": "integer", "description": "Visible reading time since the last beat."},
            "rate": {"type": "number", "minimum": 0.0625, "maximum": 16},
            "hidden": {"type": "boolean", "description": "Played while the page was hidden."},
            "elapsed_ms": {"type": "integer", "description": "Since the attempt started, on the client's clock."},
            "active": {"type": "boolean",
                       "description": "The learner interacted with the page since the last beat (idle check)."}}},
    },
}


class ChoiceOut(Schema):
    id: int
    text: str


class QuestionOut(Schema):
    """A question due at a moment of the video; which choices are right is never sent."""

    check: int
    due_ms: int
    seconds: int
    text: str
    multiple: bool
    choices: list[ChoiceOut]


class PromptOut(Schema):
    """An idle prompt ("still learning?") waiting for its answer."""

    check: int
    seconds: int


class BeatOut(Schema):
    duplicate: bool
    credited_ms: int
    cut_ms: int
    flags: list[str]
    total_credited_ms: int
    covered_ms: int
    duration_ms: int
    completed: bool
    held_ms: int
    question: QuestionOut | None
    prompt: PromptOut | None


@router.post("/tracking/beat", auth=[session], url_name="tracking_beat",
             response={200: BeatOut, ERROR_STATUSES: ErrorOut},
             summary="Report what the player played since the last beat",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": BEAT_SCHEMA},
                 "application/x-www-form-urlencoded": {"schema": {
                     "type": "object", "required": ["attempt", "beat"],
                     "properties": {"attempt": {"type": "string"},
                                    "beat": {"type": "string", "description": "The beat object as JSON text."},
                                    "csrfmiddlewaretoken": {"type": "string"}}}},
             }}})
def beat(request):
    try:
        attempt_id, data = services.beat_from_request(request)
    except (ValueError, UnicodeDecodeError):
        raise invalid({"beat": _("The beat is not valid JSON.")}) from None
    try:
        outcome = services.receive_beat(attempt_id=attempt_id, user_id=request.user.pk, data=data)
    except services.BeatRejected as exc:
        raise ApiError(exc.status if exc.status in ERROR_STATUSES else 400, "beat_rejected", exc.message) from None
    # The hot path: the outcome already has BeatOut's shape, so it skips the response model's validation.
    return JsonResponse(outcome.as_dict())
