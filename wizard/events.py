"""Events: inbound messages and delivery status, live.

The page merges two tables (inbound messages and status callbacks) newest first. htmx
keeps it live by polling `/events/new` with a cursor: the newest id of each table already
on the page. Ids, not times, so a row stored late with an earlier time is not missed.
"""
import json
import re
from dataclasses import dataclass

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from htmx_flask import request as htmx_request
from peewee import JOIN, fn

from wizard.keywords import CATEGORY_LABELS
from wizard.messages import FINAL, PROGRESS, moves_forward
from wizard.models import (ApiCredential, CredentialNumber, CustomWebhook, InboundMessage, OutboundMessage,
                           StatusEvent)
from wizard.sandboxes import current_sandbox
from wizard.web import is_htmx, render

bp = Blueprint("events", __name__, url_prefix="/events")

PAGE_SIZE = 50
# Each page reads every newer row of both tables before it; further back, the filters find events.
MAX_PAGES = 1000
TYPES = {"inbound": _l("Inbound messages"), "status": _l("Status callbacks")}
# What people type around the digits of a phone number; the number filter ignores it.
NUMBER_PUNCTUATION = "+-(). "
TIMELINE_ROW = re.compile(r"^timeline-status-\d+$")


# --- Filters and the cursor --------------------------------------------------------------

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
            credential=args.get("credential", type=int),
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


# --- Reading ------------------------------------------------------------------------------

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
    query = (StatusEvent.select(StatusEvent, ApiCredential, CustomWebhook)
             .join(ApiCredential, JOIN.LEFT_OUTER).switch(StatusEvent)
             .join(CustomWebhook, JOIN.LEFT_OUTER)
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


def status_choices(selected: str) -> list[str]:
    """Twilio's message statuses in the order a message goes through them."""
    known = sorted(PROGRESS, key=lambda status: (PROGRESS[status], status))
    return known if not selected or selected in known else [*known, selected]


# --- The Events page ----------------------------------------------------------------------

def _context(sandbox, filters, **context) -> dict:
    return {"sandbox": sandbox, "filters": filters, "categories": CATEGORY_LABELS, **context}


@bp.route("")
def index():
    sandbox = current_sandbox()
    filters = EventFilters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    if page > MAX_PAGES:
        abort(404)
    events, has_more, cursor = list_events(sandbox, filters, page)
    has_more = has_more and page < MAX_PAGES
    response = make_response(render(
        "events/index.html", "events/_events.html",
        **_context(sandbox, filters, events=events, has_more=has_more, page=page, cursor=cursor,
                   credentials=credential_choices(sandbox), statuses=status_choices(filters.status),
                   types=TYPES)))
    if is_htmx():
        # The filter form sends every field; the address bar gets only the ones in use.
        response.headers["HX-Push-Url"] = url_for("events.index", page=page if page > 1 else None,
                                                  **filters.args())
    return response


@bp.route("/new")
def new():
    """For the page's poller: the events stored since its cursor, and the poller moved on.

    204 when nothing is new, so an idle poll costs a few bytes. The poller names the
    sandbox its page shows; when the admin has switched sandbox since, the page reloads.
    """
    filters = EventFilters.from_args(request.args)
    if not is_htmx():
        return redirect(url_for("events.index", **filters.args()), code=303)
    sandbox = current_sandbox()
    if request.args.get("sandbox", type=int) != sandbox.id:
        response = make_response("", 204)
        response.headers["HX-Refresh"] = "true"
        return response
    cursor = Cursor.parse(request.args.get("after"))
    events, more, moved = events_after(sandbox, filters, cursor)
    if not events:
        return "", 204
    return render_template("events/_new.html", **_context(
        sandbox, filters, events=events, more=more, cursor=moved, was_empty=cursor.at_start))


# --- An outbound message's status timeline -------------------------------------------------

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


def _fragment_or_page(page: str, fragment: str, **context):
    """Like web.render, without the flash messages: a poll every 2 seconds must not clear them."""
    return render_template(fragment if is_htmx() else page, **context)


@bp.route("/messages/<message_sid>")
def message(message_sid):
    """The timeline page; for htmx the timeline alone, as a row of the Events table when
    it is expanded there (the row it replaces is the request's target).

    The timeline's own poll says how many callbacks it shows (`seen`): while that is
    all of them the answer is 204, so the shown timeline (and the focus in it) stays.
    """
    # Imported here: credentials imports webhooks, which imports this module for waiting_state.
    from wizard.credentials import MESSAGE_STATUS

    outbound, entries, status = timeline_of(current_sandbox(), message_sid)
    if is_htmx() and request.args.get("seen", type=int) == len(entries):
        return "", 204
    target = htmx_request.htmx.target if is_htmx() else None
    row_id = target if target and TIMELINE_ROW.match(target) else None
    return _fragment_or_page(
        "events/message.html", "events/_timeline_row.html" if row_id else "events/_timeline.html",
        message_sid=message_sid, outbound=outbound, entries=entries, status=status,
        final=status in FINAL, statuses=MESSAGE_STATUS, row_id=row_id)


# --- Waiting for the first event ----------------------------------------------------------

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


@bp.route("/waiting")
def waiting():
    """The Waiting for the first event panel; it polls itself until Twilio's first signed request."""
    credential = ApiCredential.get_or_none(ApiCredential.id == request.args.get("credential", type=int))
    if credential is None:
        abort(404)
    state = waiting_state(credential.id)
    if state["first_signed_event"] is None and is_htmx() and htmx_request.htmx.trigger == f"waiting-{credential.id}":
        return "", 204  # the panel asking again, and still nothing: it stays as it is
    return _fragment_or_page("events/waiting.html", "events/_waiting.html", credential=credential, **state)
