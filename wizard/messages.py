"""Messages and their delivery status, as providers report them.

Callbacks arrive twice and out of order: the same message and status is stored once,
and a message's current status only ever moves forward (a late `sent` never replaces
`delivered`).
"""
import json

import peewee

from wizard.db import database
from wizard.models import InboundMessage, OutboundMessage, StatusEvent, utcnow

# How far along a message is; a final state is never replaced by an earlier one.
PROGRESS = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3, "received": 4,
    "delivered": 5, "read": 6, "undelivered": 7, "failed": 7, "canceled": 7, "partially_delivered": 7,
}
FINAL = {"delivered", "read", "undelivered", "failed", "canceled", "partially_delivered", "received"}


def moves_forward(current: str | None, new: str) -> bool:
    if current is None:
        return True
    if current in FINAL and new not in FINAL:
        return False
    return PROGRESS.get(new, 0) >= PROGRESS.get(current, 0)


def _progress(column):
    return peewee.Case(column, [(status, rank) for status, rank in PROGRESS.items()], 0)


def record_status(*, sandbox, message_sid: str, status: str, error_code=None, params: dict, signed=True,
                  credential=None, source="twilio", custom_webhook=None) -> bool:
    """Store one status callback (once) and move the message's status forward; True if new.

    Two statements, so that the webhook's hot path stays short: an insert that ignores
    a duplicate, and an upsert whose update only ever moves the status forward.
    """
    with database.atomic():
        inserted = database.execute(StatusEvent.insert(
            credential=credential, sandbox=sandbox, custom_webhook=custom_webhook, source=source,
            message_sid=message_sid, status=status, error_code=error_code or None,
            params=json.dumps(params, ensure_ascii=False), signed=signed,
        ).on_conflict(conflict_target=[StatusEvent.message_sid, StatusEvent.status], action="IGNORE")).rowcount
        if not inserted:
            return False  # the same message and status again: already stored
        new, old = peewee.EXCLUDED.status, OutboundMessage.status
        final = list(FINAL)
        OutboundMessage.insert(
            credential=credential, sandbox=sandbox, message_sid=message_sid, to_number=params.get("To", ""),
            status=status, error_code=error_code or None, updated_at=utcnow(),
        ).on_conflict(
            conflict_target=[OutboundMessage.message_sid],
            update={OutboundMessage.status: new, OutboundMessage.error_code: peewee.EXCLUDED.error_code,
                    OutboundMessage.updated_at: peewee.EXCLUDED.updated_at},
            where=(_progress(new) >= _progress(old)) & ~(old.in_(final) & new.not_in(final)),
        ).execute()
    return True


def record_sent(*, credential, sandbox, message_sid: str, to_number: str, status: str):
    """A message we just sent (Verify SMS connection, practice sends): start its timeline."""
    OutboundMessage.get_or_create(
        message_sid=message_sid,
        defaults={"credential": credential, "sandbox": sandbox, "to_number": to_number, "status": status},
    )


def media_of(params: dict) -> list[dict]:
    """Twilio's MediaUrl{N}/MediaContentType{N} pairs as a list."""
    try:
        count = int(params.get("NumMedia", 0) or 0)
    except ValueError:
        count = 0
    return [{"url": params.get(f"MediaUrl{i}", ""), "content_type": params.get(f"MediaContentType{i}", "")}
            for i in range(min(count, 10))]


def inbound_from_twilio(*, credential, sandbox, params: dict, signed: bool) -> InboundMessage:
    try:
        segments = int(params.get("NumSegments")) if params.get("NumSegments") else None
    except ValueError:
        segments = None
    return InboundMessage.create(
        credential=credential, sandbox=sandbox, source="twilio",
        message_sid=params.get("MessageSid", "")[:64], from_number=params.get("From", "")[:32],
        to_number=params.get("To", "")[:32], body=params.get("Body", ""),
        media=json.dumps(media_of(params)), num_segments=segments,
        params=json.dumps(params, ensure_ascii=False), signed=signed,
    )
