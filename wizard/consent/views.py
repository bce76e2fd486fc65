"""The consent register of each sandbox: every number's state, since when, and its history.

Keywords move numbers (wizard.messaging.keywords.respond); this module only shows and exports them.
An open register polls every few seconds and is answered 204 while nothing changed, so a
STOP shows up without a reload and nothing on the page is disturbed in between."""
import csv
import io

from flask import Blueprint, abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from wizard.core.context import current_sandbox
from wizard.core.ids import page_number, row_id
from wizard.core.models import Consent, ConsentEvent, utcnow
from wizard.shell.pages import is_htmx, redirect_to, render

bp = Blueprint("consent", __name__, url_prefix="/consent")


STATE_LABELS = {
    "opted_in": _l("Opted in"),
    "opted_out": _l("Opted out"),
    "pending": _l("Pending double opt-in"),
}


PAGE_SIZE = 100


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


NUMBER_PUNCTUATION = str.maketrans("", "", " ()-.")


def _filters() -> dict:
    state = request.args.get("state", "")
    number = request.args.get("number", "").strip()[:32]
    return {"state": state if state in STATE_LABELS else "", "number": number}


def _filtered(sandbox, state: str, number: str):
    query = Consent.select().where(Consent.sandbox == sandbox.id)
    if state:
        query = query.where(Consent.state == state)
    digits = number.translate(NUMBER_PUNCTUATION)  # "415 555-0101" finds +14155550101
    if digits:
        query = query.where(Consent.phone_number.contains(digits))
    return query


def _fingerprint(sandbox) -> str:
    """Changes whenever the register does: every change adds an event."""
    last = (ConsentEvent.select(fn.MAX(ConsentEvent.id)).join(Consent)
            .where(Consent.sandbox == sandbox.id).scalar())
    return str(last or 0)


def _histories(consent_ids) -> dict[int, list[ConsentEvent]]:
    """Each consent's events, newest first."""
    found = {consent_id: [] for consent_id in consent_ids}
    if found:
        events = (ConsentEvent.select().where(ConsentEvent.consent.in_(list(found)))
                  .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()))
        for event in events:
            found[event.consent_id].append(event)
    return found


@bp.route("")
def index():
    """This sandbox's numbers; for htmx (the filters, and the poll) just the register."""
    sandbox = current_sandbox()
    fingerprint = _fingerprint(sandbox)
    if is_htmx() and request.args.get("seen") == fingerprint:
        return "", 204  # the poll: nothing new, leave the page (and any open history) as it is
    filters = _filters()
    page = page_number(request.args)
    query = _filtered(sandbox, **filters)
    consents = list(query.order_by(Consent.since.desc(), Consent.id.desc()).paginate(page, PAGE_SIZE + 1))
    shown = consents[:PAGE_SIZE]
    # Histories the admin has open stay open, and current, when the register refreshes.
    open_ids = set(request.args.getlist("open", type=row_id)) & {c.id for c in shown}
    return render(
        "consent/index.html", "consent/_register.html",
        sandbox=sandbox, consents=shown, total=query.count(), has_more=len(consents) > PAGE_SIZE, page=page,
        histories=_histories(open_ids), state_labels=STATE_LABELS, fingerprint=fingerprint, **filters,
    )


def _get(consent_id) -> Consent:
    consent = Consent.get_or_none(Consent.id == consent_id)
    if consent is None:
        abort(404)
    sandbox = current_sandbox()
    if consent.sandbox_id != sandbox.id:
        flash(_("Number %(number)s is in the register of sandbox %(sandbox)s. Switch to that sandbox to see it.",
                number=consent.phone_number, sandbox=consent.sandbox.name), "error")
        abort(redirect_to(url_for("consent.index")))
    return consent


@bp.route("/<int:consent_id>")
def detail(consent_id):
    """A number's history: the page, or for htmx the row that expands under it."""
    consent = _get(consent_id)
    return render("consent/detail.html", "consent/_history.html", consent=consent,
                  events=_histories([consent.id])[consent.id], state_labels=STATE_LABELS)


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # stored in UTC


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def export():
    """The register (as filtered) as CSV: number, state, since, and the history in one column, oldest first.

    Column names and states are codes, not translated, so that other systems can read the file.
    """
    sandbox = current_sandbox()
    filters = _filters()
    consents = list(_filtered(sandbox, **filters).order_by(Consent.phone_number))
    histories = _histories([c.id for c in consents])
    out = io.StringIO()
    out.write("\ufeff")  # so that Excel reads UTF-8 (Chinese sources) as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["phone_number", "state", "since", "history"])
    for consent in consents:
        history = "; ".join(f"{_iso(e.at)} {e.state} {e.source}".strip() for e in reversed(histories[consent.id]))
        writer.writerow([_cell(value) for value in (consent.phone_number, consent.state, _iso(consent.since),
                                                    history)])
    name = f"consent-{sandbox.name}-{utcnow():%Y-%m-%d}.csv"
    return send_file(io.BytesIO(out.getvalue().encode("utf-8")), mimetype="text/csv",
                     as_attachment=True, download_name=name, max_age=0)


# The export sits beside the register at /consent.csv, outside the blueprint's /consent/ prefix.
bp.record_once(lambda state: state.app.add_url_rule("/consent.csv", "consent.export", export))
