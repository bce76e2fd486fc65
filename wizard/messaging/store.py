"""Messages and their delivery status, as providers report them.

Callbacks arrive twice and out of order: the same message and status is stored once,
and a message's current status only ever moves forward (a late `sent` never replaces
`delivered`).


Also what the "waiting for the first event" panels ask: has a signed event arrived yet."""
import json

from peewee import EXCLUDED, SQL

from wizard.core.db import database, sql_parameter
from wizard.core.models import InboundMessage, OutboundMessage, StatusEvent, utcnow
from wizard.messaging.statuses import FINAL, PROGRESS


def _progress_sql(column: str) -> str:
    """The status's place in PROGRESS, as SQL (our own constants, so safe to inline)."""
    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in PROGRESS.items())
    return f"(CASE {column} {whens} ELSE 0 END)"


_FINAL_SQL = ", ".join(f"'{status}'" for status in sorted(FINAL))


# Written out once, not built per call: this is the hot path of every status callback.
# Both statements are plain SQL that SQLite (3.24+) and PostgreSQL share.
_INSERT_STATUS = (
    "INSERT INTO status_event (credential_id, sandbox_id, custom_webhook_id, source, message_sid, status, "
    "error_code, params, signed, received_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (message_sid, status) DO NOTHING"
)


_UPSERT_OUTBOUND = (
    "INSERT INTO outbound_message (credential_id, sandbox_id, message_sid, to_number, status, error_code, "
    "updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (message_sid) DO UPDATE SET "
    "status = excluded.status, error_code = excluded.error_code, updated_at = excluded.updated_at WHERE "
    f"{_progress_sql('excluded.status')} >= {_progress_sql('outbound_message.status')} AND NOT "
    f"(outbound_message.status IN ({_FINAL_SQL}) AND excluded.status NOT IN ({_FINAL_SQL}))"
)


def _id(value):
    return getattr(value, "id", value)


def record_status(*, sandbox, message_sid: str, status: str, error_code=None, params: dict, signed=True,
                  credential=None, source="twilio", custom_webhook=None) -> bool:
    """Store one status callback (once) and move the message's status forward; True if new.

    Two statements: an insert that ignores a duplicate, and an upsert whose update only
    ever moves the status forward. They run in the caller's transaction (group_commit's
    or database.atomic()): a savepoint of their own would double the statements.
    """
    if not database.in_transaction():
        raise RuntimeError("record_status writes two statements: call it inside a transaction")
    param = sql_parameter()
    now = StatusEvent.received_at.db_value(utcnow())
    inserted = database.execute_sql(_INSERT_STATUS.format(p=param), (
        _id(credential), _id(sandbox), _id(custom_webhook), source, message_sid, status, error_code or None,
        json.dumps(params, ensure_ascii=False), bool(signed), now,
    )).rowcount
    if not inserted:
        return False  # the same message and status again: already stored
    database.execute_sql(_UPSERT_OUTBOUND.format(p=param), (
        _id(credential), _id(sandbox), message_sid, params.get("To", ""), status, error_code or None, now,
    ))
    return True


def record_sent(*, credential, sandbox, message_sid: str, to_number: str, status: str, body: str = ""):
    """A message we just sent (Verify SMS connection): start its timeline, with its text. Its first
    status callback may have stored it already (they race): then only the text is added."""
    (OutboundMessage
     .insert(credential=credential, sandbox=sandbox, message_sid=message_sid, to_number=to_number,
             status=status, body=body, updated_at=utcnow())
     .on_conflict(conflict_target=[OutboundMessage.message_sid], update={OutboundMessage.body: EXCLUDED.body})
     .execute())


def media_of(params: dict) -> list[dict]:
    """Twilio's MediaUrl{N}/MediaContentType{N} pairs as a list."""
    try:
        count = int(params.get("NumMedia", 0) or 0)
    except ValueError:
        count = 0
    return [{"url": params.get(f"MediaUrl{i}", ""), "content_type": params.get(f"MediaContentType{i}", "")}
            for i in range(min(count, 10))]


# Twilio's MessageSid names one message: a retried delivery of it is stored once. A message
# without one (accepted unsigned by the log-only switch) has nothing to be recognised by.
# The conflict target names the partial unique index of migration 0009.
_TWILIO_ONCE = SQL("source = 'twilio' AND message_sid <> ''")


def inbound_from_twilio(*, credential, sandbox, params: dict, signed: bool) -> InboundMessage | None:
    """Store a message Twilio delivered; None when its MessageSid is stored already (a retry).

    One statement that ignores a duplicate, in the caller's transaction: on PostgreSQL a
    concurrent delivery of the same message waits for this one to commit, then stores nothing.
    """
    try:
        segments = int(params.get("NumSegments")) if params.get("NumSegments") else None
    except ValueError:
        segments = None
    message = InboundMessage(
        credential=credential, sandbox=sandbox, source="twilio",
        message_sid=params.get("MessageSid", "")[:64], from_number=params.get("From", "")[:32],
        to_number=params.get("To", "")[:32], body=params.get("Body", ""),
        media=json.dumps(media_of(params)), num_segments=segments,
        params=json.dumps(params, ensure_ascii=False), signed=signed, received_at=utcnow(),
    )
    inserted = (InboundMessage.insert(message.__data__)
                .on_conflict(action="NOTHING", conflict_target=(InboundMessage.sandbox, InboundMessage.message_sid),
                             conflict_where=_TWILIO_ONCE)
                .returning(InboundMessage.id).tuples().execute())
    row = next(iter(inserted), None)
    if row is None:
        return None
    message.id = row[0]
    return message


def first_signed_event(credential_id: int):
    """The first request Twilio signed for this credential that was stored, or None."""
    found = []
    for model, kind in ((InboundMessage, "inbound"), (StatusEvent, "status")):
        event = (model.select().where(model.credential == credential_id, model.signed == True)  # noqa: E712
                 .order_by(model.received_at, model.id).first())
        if event is not None:
            event.kind = kind
            found.append(event)
    return min(found, key=lambda e: e.received_at) if found else None


def waiting_state(credential_id: int) -> dict:
    """What `events/_waiting.html` needs besides `credential`: pass it into any page's context."""
    return {"first_signed_event": first_signed_event(credential_id)}
