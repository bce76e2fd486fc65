"""Events: inbound messages and delivery status, live.

The page merges two tables (inbound messages and status callbacks) newest first. htmx
keeps it live by polling `/events/new` with a cursor: the newest id of each table already
on the page. Ids, not times, so a row stored late with an earlier time is not missed."""
import re

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from htmx_flask import make_response as htmx_response
from htmx_flask import request as htmx_request

from wizard.core.context import current_sandbox
from wizard.core.ids import page_number, row_id
from wizard.core.models import ApiCredential
from wizard.events.queries import (
    MAX_PAGES,
    TYPES,
    Cursor,
    EventFilters,
    credential_choices,
    events_after,
    list_events,
    status_choices,
    timeline_of,
)
from wizard.messaging.keywords import CATEGORY_LABELS
from wizard.messaging.statuses import FINAL, MESSAGE_STATUS, STATUS_NAME
from wizard.messaging.store import waiting_state
from wizard.shell.pages import is_htmx, render

bp = Blueprint("events", __name__, url_prefix="/events")


TIMELINE_ROW = re.compile(r"^timeline-status-\d+$")


@bp.app_context_processor
def status_names():
    """Templates name a status in the reader's language, Twilio's word beside it in code."""
    return {"status_names": STATUS_NAME}


def _context(sandbox, filters, **context) -> dict:
    return {"sandbox": sandbox, "filters": filters, "categories": CATEGORY_LABELS, **context}


@bp.route("")
def index():
    sandbox = current_sandbox()
    filters = EventFilters.from_args(request.args)
    page = page_number(request.args, last=MAX_PAGES)
    events, has_more, cursor = list_events(sandbox, filters, page)
    has_more = has_more and page < MAX_PAGES
    page_or_fragment = render(
        "events/index.html", "events/_events.html",
        **_context(sandbox, filters, events=events, has_more=has_more, page=page, cursor=cursor,
                   credentials=credential_choices(sandbox), statuses=status_choices(filters.status),
                   types=TYPES))
    # The filter form sends every field; the address bar gets only the ones in use.
    pushed = url_for("events.index", page=page if page > 1 else None, **filters.args()) if is_htmx() else None
    return htmx_response(page_or_fragment, push_url=pushed)


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
    if request.args.get("sandbox", type=row_id) != sandbox.id:
        return htmx_response("", 204, refresh=True)
    cursor = Cursor.parse(request.args.get("after"))
    events, more, moved = events_after(sandbox, filters, cursor)
    if not events:
        return "", 204
    return render_template("events/_new.html", **_context(
        sandbox, filters, events=events, more=more, cursor=moved, was_empty=cursor.at_start))


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

    outbound, entries, status = timeline_of(current_sandbox(), message_sid)
    if is_htmx() and request.args.get("seen", type=int) == len(entries):
        return "", 204
    target = htmx_request.htmx.target if is_htmx() else None
    row_id = target if target and TIMELINE_ROW.match(target) else None
    return _fragment_or_page(
        "events/message.html", "events/_timeline_row.html" if row_id else "events/_timeline.html",
        message_sid=message_sid, outbound=outbound, entries=entries, status=status,
        final=status in FINAL, statuses=MESSAGE_STATUS, row_id=row_id)


@bp.route("/waiting")
def waiting():
    """The Waiting for the first event panel; it polls itself until Twilio's first signed request."""
    credential = ApiCredential.get_or_none(ApiCredential.id == request.args.get("credential", type=row_id))
    if credential is None:
        abort(404)
    state = waiting_state(credential.id)
    if state["first_signed_event"] is None and is_htmx() and htmx_request.htmx.trigger == f"waiting-{credential.id}":
        return "", 204  # the panel asking again, and still nothing: it stays as it is
    return _fragment_or_page("events/waiting.html", "events/_waiting.html", credential=credential, **state)
