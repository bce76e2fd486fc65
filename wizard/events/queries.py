"""Reading events: inbound messages and status callbacks of a sandbox, filtered, newest first, and
a message's timeline."""
import json
import re
from dataclasses import dataclass

from flask import abort
from flask_babel import lazy_gettext as _l
from peewee import JOIN, fn

from wizard.core.ids import row_id
from wizard.core.models import (
    ApiCredential,
    CredentialNumber,
    CustomWebhook,
    InboundMessage,
    OutboundMessage,
    StatusEvent,
)
from wizard.messaging.statuses import PROGRESS, STATUS_NAME, moves_forward

PAGE_SIZE = 50


# Each page reads every newer row of both tables before it; further back, the filters find events.
MAX_PAGES = 1000


TYPES = {"inbound": _l("Inbound messages"), "status": _l("Status callbacks")}


# What people type around the digits of a phone number; the number filter ignores it.
NUMBER_PUNCTUATION = "+-(). "


@dataclass(frozen=True)
class EventFilters:
    credential: int | None = None
    type: str = ""  # "", inbound, status
    status: str = ""
    number: str = ""  # as typed; matched by its digits

    @classmethod
    def from_args(cls, args) -> "EventFilters":
        event_type = args.get("type", "")
        return cls(
            credential=args.get("credential", type=row_id),
            type=event_type if event_type in TYPES else "",
            status=args.get("status", "").strip()[:32],
            number=args.get("number", "").strip()[:32],
        )

    @property
    def digits(self) -> str:
        return re.sub(r"\D", "", self.number)

    @property
    def active(self) -> bool:
        return any((self.credential, self.type, self.status, self.digits))

    @property
    def wants_inbound(self) -> bool:
        # A delivery status belongs to status callbacks only.
        return self.type != "status" and not self.status

    @property
    def wants_status(self) -> bool:
        return self.type != "inbound"

    def args(self) -> dict:
        """The filters as query arguments, the empty ones left out."""
        given = {"credential": self.credential, "type": self.type, "status": self.status, "number": self.number}
        return {name: value for name, value in given.items() if value}


@dataclass(frozen=True)
class Cursor:
    """The newest inbound message and status event already on the page, by id."""

    inbound: int = 0
    status: int = 0

    def __str__(self):
        return f"{self.inbound}.{self.status}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor":
        match = re.fullmatch(r"(\d{1,18})\.(\d{1,18})", text or "")
        if match is None:
            abort(400)
        return cls(int(match.group(1)), int(match.group(2)))

    def past(self, events) -> "Cursor":
        """This cursor moved past the given events."""
        inbound, status = self.inbound, self.status
        for event in events:
            if event.kind == "inbound":
                inbound = max(inbound, event.id)
            else:
                status = max(status, event.id)
        return Cursor(inbound, status)

    @property
    def at_start(self) -> bool:
        """The page this cursor came from showed no events at all."""
        return self.inbound == 0 and self.status == 0


def _digits_of(column):
    """The column with the usual phone-number punctuation removed, in SQL."""
    for character in NUMBER_PUNCTUATION:
        column = fn.REPLACE(column, character, "")
    return column


def _inbound_query(sandbox, filters: EventFilters):
    query = (InboundMessage.select(InboundMessage, ApiCredential, CustomWebhook)
             .join(ApiCredential, JOIN.LEFT_OUTER).switch(InboundMessage)
             .join(CustomWebhook, JOIN.LEFT_OUTER)
             .where(InboundMessage.sandbox == sandbox))
    if filters.credential:
        query = query.where(InboundMessage.credential == filters.credential)
    if filters.digits:
        query = query.where(_digits_of(InboundMessage.from_number).contains(filters.digits)
                            | _digits_of(InboundMessage.to_number).contains(filters.digits))
    return query.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())


def _status_query(sandbox, filters: EventFilters):
    # The message each callback is about (when we know it): its recipient and text, for the row.
    query = (StatusEvent.select(StatusEvent, ApiCredential, CustomWebhook, OutboundMessage)
             .join(ApiCredential, JOIN.LEFT_OUTER).switch(StatusEvent)
             .join(CustomWebhook, JOIN.LEFT_OUTER).switch(StatusEvent)
             .join(OutboundMessage, JOIN.LEFT_OUTER, on=(OutboundMessage.message_sid == StatusEvent.message_sid),
                   attr="message")
             .where(StatusEvent.sandbox == sandbox))
    if filters.credential:
        query = query.where(StatusEvent.credential == filters.credential)
    if filters.status:
        query = query.where(StatusEvent.status == filters.status)
    if filters.digits:
        # A callback's recipient is the number its outbound message went to.
        recipients = OutboundMessage.select(OutboundMessage.message_sid).where(
            OutboundMessage.sandbox == sandbox, _digits_of(OutboundMessage.to_number).contains(filters.digits))
        query = query.where(StatusEvent.message_sid.in_(recipients))
    return query.order_by(StatusEvent.received_at.desc(), StatusEvent.id.desc())


def _as_events(inbound, statuses) -> list:
    """Both kinds in one list, newest first, each marked with its kind for the template."""
    for message in inbound:
        message.kind = "inbound"
        message.media_count = len(json.loads(message.media or "[]"))
    for event in statuses:
        event.kind = "status"
    return sorted([*inbound, *statuses], key=lambda e: (e.received_at, e.id, e.kind), reverse=True)


def list_events(sandbox, filters: EventFilters, page: int):
    """One page of events, whether an older page exists, and the cursor for live updates."""
    # The first `page` pages of the merged list come from at most that many rows of each table.
    limit = page * PAGE_SIZE + 1
    inbound = list(_inbound_query(sandbox, filters).limit(limit)) if filters.wants_inbound else []
    statuses = list(_status_query(sandbox, filters).limit(limit)) if filters.wants_status else []
    merged = _as_events(inbound, statuses)
    start = (page - 1) * PAGE_SIZE
    return merged[start:start + PAGE_SIZE], len(merged) > start + PAGE_SIZE, Cursor().past(merged)


def events_after(sandbox, filters: EventFilters, cursor: Cursor):
    """The events stored since the cursor (the newest PAGE_SIZE of them), and whether more came."""
    inbound, statuses = [], []
    if filters.wants_inbound:
        inbound = list(_inbound_query(sandbox, filters).where(InboundMessage.id > cursor.inbound)
                       .limit(PAGE_SIZE + 1))
    if filters.wants_status:
        statuses = list(_status_query(sandbox, filters).where(StatusEvent.id > cursor.status)
                        .limit(PAGE_SIZE + 1))
    merged = _as_events(inbound, statuses)
    return merged[:PAGE_SIZE], len(merged) > PAGE_SIZE, cursor.past(merged)


def credential_choices(sandbox) -> list[ApiCredential]:
    """The credentials that can have events in this sandbox: a number or a custom webhook here."""
    numbers = CredentialNumber.select(CredentialNumber.credential).where(CredentialNumber.sandbox == sandbox)
    webhooks = CustomWebhook.select(CustomWebhook.credential).where(CustomWebhook.sandbox == sandbox)
    return list(ApiCredential.select()
                .where(ApiCredential.id.in_(numbers) | ApiCredential.id.in_(webhooks))
                .order_by(ApiCredential.name_key))


def status_choices(selected: str) -> list[tuple[str, str]]:
    """Twilio's message statuses in the order a message goes through them: (value, name)."""
    known = sorted(PROGRESS, key=lambda status: (PROGRESS[status], status))
    if selected and selected not in known:
        known.append(selected)
    return [(status, STATUS_NAME.get(status, status)) for status in known]


@dataclass(frozen=True)
class TimelineEntry:
    event: StatusEvent
    moved_status: bool  # False: it arrived after a later status and changed nothing


def timeline_of(sandbox, message_sid: str):
    """The message we sent and its status callbacks in the order they were stored; 404 if unknown here."""
    outbound = (OutboundMessage.select(OutboundMessage, ApiCredential)
                .join(ApiCredential, JOIN.LEFT_OUTER)
                .where(OutboundMessage.sandbox == sandbox, OutboundMessage.message_sid == message_sid)
                .first())
    events = list(StatusEvent.select()
                  .where(StatusEvent.sandbox == sandbox, StatusEvent.message_sid == message_sid)
                  .order_by(StatusEvent.received_at, StatusEvent.id))
    if outbound is None and not events:
        abort(404)
    entries, current = [], None
    for event in events:
        moved = moves_forward(current, event.status)
        current = event.status if moved else current
        entries.append(TimelineEntry(event, moved))
    return outbound, entries, (outbound.status if outbound else current)
