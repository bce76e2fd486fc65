"""Practice mode's pages: the practice account, Simulate inbound reply, reset and presenter mode.

A practice sandbox's Twilio calls go to the app's own Twilio simulator (wizard.providers.transport):
nothing reaches the network, whatever TWILIO_BASE_URL says."""
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

import click
from babel.lists import format_list
from flask import Blueprint, abort, flash, g, has_request_context, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from wizard.core.context import current_sandbox, use_sandbox
from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber, Sandbox
from wizard.guided.engine import Run
from wizard.guided.flows.sms import SMS
from wizard.messaging.receiver_urls import webhook_urls
from wizard.practice.data import ensure_practice_sandbox, reset_practice_data
from wizard.practice.forms import InboundReplyForm
from wizard.providers.transport import simulator
from wizard.providers.twilio.simulator import (
    DEMO_ACCOUNT,
    DEMO_SERVICES,
    DEMO_UNASSIGNED_NUMBER,
    FRESH_ACCOUNT,
    FRESH_NUMBER,
    INVALID_TO_NUMBER,
    PRACTICE_PHONE,
    SUSPENDED_ACCOUNT,
    TRIAL_ACCOUNT,
    TRIAL_SERVICE,
    TRIAL_VERIFIED_NUMBERS,
    UNDELIVERABLE_NUMBER,
)
from wizard.shell.i18n import as_typed, translated_with
from wizard.shell.pages import is_htmx, public, redirect_to, render, safe_return

bp = Blueprint("practice", __name__, url_prefix="/practice", cli_group=None)


PRESENTER_COOKIE = "presenter"


PRESENTER_MAX_AGE = 365 * 24 * 3600




def _on_own_thread(work, timeout: float = 30):
    """Run work() on a thread of its own: the webhook request it makes gets request contexts and a
    database connection apart from the request that asked for it."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as error:  # handed back to the asking request
            outcome["error"] = error

    thread = threading.Thread(target=run, name="practice-webhook", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" in outcome:
        raise outcome["error"]
    if thread.is_alive():
        raise TimeoutError("the simulated webhook did not finish in time")
    return outcome.get("value")


def practice_facts() -> dict:
    """The practice seed as the panels show it."""
    return {"demo": DEMO_ACCOUNT, "services": DEMO_SERVICES, "unassigned": DEMO_UNASSIGNED_NUMBER,
            "trial": TRIAL_ACCOUNT, "trial_service": TRIAL_SERVICE, "suspended": SUSPENDED_ACCOUNT,
            "invalid_to": INVALID_TO_NUMBER, "undeliverable": UNDELIVERABLE_NUMBER, "phone": PRACTICE_PHONE,
            "trial_verified": TRIAL_VERIFIED_NUMBERS, "fresh": FRESH_ACCOUNT, "fresh_number": FRESH_NUMBER}


def practice_numbers(sandbox) -> list[CredentialNumber]:
    """The Twilio credentials' numbers in this sandbox: where a simulated reply can be sent."""
    return list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                .where(CredentialNumber.sandbox == sandbox, ApiCredential.vendor == "twilio")
                .order_by(ApiCredential.name_key))


def inbound_form(formdata=None) -> InboundReplyForm | None:
    """The Simulate inbound reply form for this sandbox; None outside practice."""
    if not current_sandbox().is_practice:  # the form shows only where replies are simulated
        return None
    return InboundReplyForm(practice_numbers(current_sandbox()), formdata=formdata)


@bp.app_context_processor
def practice_context():
    if not has_request_context():
        return {}
    return {"presenter_mode": request.cookies.get(PRESENTER_COOKIE) == "1",
            "practice_facts": practice_facts, "practice_inbound_form": inbound_form}


@bp.route("")
def index():
    sandbox = current_sandbox()
    others = list(Sandbox.select().where(Sandbox.is_practice == True).order_by(Sandbox.name_key))  # noqa: E712
    return render("practice/index.html", sandbox=sandbox, practice_sandboxes=others,
                  form=inbound_form(), result=None)


def _our_reply(twiml: str) -> str | None:
    """The text of the TwiML <Message> our receiver answered with, or None."""
    try:
        found = ElementTree.fromstring(twiml).find("Message")
    except ElementTree.ParseError:
        return None
    return found.text if found is not None else None


@dataclass(frozen=True)
class InboundResult:
    body: str
    from_number: str
    to_number: str
    status: int
    reply: str | None


@bp.route("/inbound", methods=["GET", "POST"])
def inbound():
    """Simulate inbound reply: the simulator posts a signed message through our inbound receiver.
    The form lives on the practice page (and the Events page): a GET goes there."""
    if request.method == "GET":
        return redirect_to(url_for("practice.index"))
    form = inbound_form(formdata=request.form)
    if form is None:
        flash(_("Simulated replies exist only in a practice sandbox."), "error")
        return redirect_to(url_for("practice.index"))
    body = form.message_body()
    valid = form.validate()
    if valid and not body.strip():
        form.body.errors.append(_("Type a message, or choose STOP, HELP or YES."))
        valid = False
    result, status = None, 200
    if valid:
        number = CredentialNumber.get_by_id(form.number.data)
        url, account_sid, twilio = webhook_urls(number)["inbound"], number.credential.account_sid, simulator()
        try:
            answer = _on_own_thread(lambda: twilio.inbound(account_sid, number.phone_number,
                                                           form.from_number.data, body, url))
        except KeyError:
            form.form_errors.append(_("The simulator has no account %(sid)s: only the practice accounts can "
                                      "simulate replies.", sid=account_sid))
            valid, status = False, 422
        else:
            result = InboundResult(body, form.from_number.data, number.phone_number, answer[0] if answer else 0,
                                   _our_reply(answer[1]) if answer else None)
    else:
        status = 422
    return_to = safe_return(request.form.get("next") or url_for("practice.index"))
    if valid and not is_htmx():
        _flash_result(result)
        return redirect_to(return_to)
    return render("practice/index.html", "practice/_inbound.html", status=status, sandbox=current_sandbox(),
                  practice_sandboxes=[], form=form, result=result, return_to=return_to)


def _flash_result(result: InboundResult):
    if 200 <= result.status < 300:
        flash(translated_with(_("“%(body)s” from %(sender)s reached the inbound webhook of %(number)s."),
                              body=as_typed(result.body), sender=result.from_number, number=result.to_number),
              "success")
        if result.reply:
            flash(translated_with(_("Our reply: %(reply)s"), reply=as_typed(result.reply)), "success")
    else:
        flash(_("The inbound webhook answered %(status)s: the message was not stored.", status=result.status),
              "error")


def _practice_sandbox(sandbox_id: int) -> Sandbox:
    sandbox = Sandbox.get_or_none(Sandbox.id == sandbox_id)
    if sandbox is None or not sandbox.is_practice:
        abort(404)
    return sandbox


def _unused_credential_name(name: str) -> str:
    """The name, or the name with a number after it when an API credential has it already."""
    taken = {key for (key,) in ApiCredential.select(ApiCredential.name_key).tuples()}
    candidate, suffix = name, 2
    while Sandbox.key_for(candidate) in taken:
        candidate, suffix = f"{name} {suffix}", suffix + 1
    return candidate


def _real_sandbox() -> Sandbox:
    """Where a setup with a real Twilio account starts: this sandbox, unless it is a practice one."""
    sandbox = current_sandbox()
    if not sandbox.is_practice:
        return sandbox
    return Sandbox.select().where(Sandbox.is_practice == False).order_by(Sandbox.id).first() or sandbox  # noqa: E712


@bp.route("/start", methods=["GET", "POST"])
def start():
    """The two ways to start, offered after first run: the guided SMS/MMS setup with practice data
    (in the practice sandbox, the practice account filled in), or with your own Twilio account."""
    if request.method == "GET":
        return render("practice/start.html")
    with_practice = request.form.get("start") != "twilio"
    sandbox = ensure_practice_sandbox()[0] if with_practice else _real_sandbox()
    use_sandbox(g.user, sandbox)
    run = Run.start(SMS, g.user, sandbox)
    if with_practice:  # the simulator's demo account: no real account accepts it, nothing here is a secret
        run.set_step_data("credential", {"vendor": "twilio", "name": _unused_credential_name(_("Twilio practice"))})
        run.set_step_data("account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": DEMO_ACCOUNT.auth_token})
        run.save()
    return redirect_to(url_for("guided.step", flow_name=SMS.name, token=run.token, step_name=SMS.steps[0].name))


@bp.route("/<int:sandbox_id>/reset", methods=["GET", "POST"])
def reset(sandbox_id):
    """Reset practice data: this practice sandbox's rows and the simulator, after confirmation."""
    sandbox = _practice_sandbox(sandbox_id)
    if request.method == "GET":
        return render("practice/reset.html", sandbox=sandbox)
    removed = removed_text(reset_practice_data(sandbox))
    if removed:
        flash(_("Practice data of sandbox %(name)s reset: %(removed)s removed; the simulator is back to its "
                "starting point.", name=sandbox.name, removed=removed), "success")
    else:
        flash(_("Practice data of sandbox %(name)s reset: there was nothing to remove; the simulator is back to its "
                "starting point.", name=sandbox.name), "success")
    return redirect_to(url_for("practice.index"))


# What a reset removed, kind by kind (wizard.practice.data.REMOVED_KINDS), as the report names it.
REMOVED_PHRASES = {
    "credentials": lambda n: ngettext("%(num)d API credential", "%(num)d API credentials", n),
    "numbers": lambda n: ngettext("%(num)d number", "%(num)d numbers", n),
    "channel_configurations": lambda n: ngettext("%(num)d channel configuration", "%(num)d channel configurations",
                                                 n),
    "webhooks": lambda n: ngettext("%(num)d webhook", "%(num)d webhooks", n),
    "keyword_rules": lambda n: ngettext("%(num)d keyword rule", "%(num)d keyword rules", n),
    "keyword_settings": lambda n: ngettext("%(num)d set of keyword settings", "%(num)d sets of keyword settings", n),
    "sent_messages": lambda n: ngettext("%(num)d sent message", "%(num)d sent messages", n),
    "received_messages": lambda n: ngettext("%(num)d received message", "%(num)d received messages", n),
    "status_events": lambda n: ngettext("%(num)d status event", "%(num)d status events", n),
    "consent_records": lambda n: ngettext("%(num)d consent record", "%(num)d consent records", n),
    "consent_changes": lambda n: ngettext("%(num)d consent change", "%(num)d consent changes", n),
    "guided_runs": lambda n: ngettext("%(num)d unfinished setup", "%(num)d unfinished setups", n),
}


def removed_text(removed: dict[str, int]) -> str:
    """"1 API credential, 2 numbers and 3 status events": the kinds a reset removed, in the
    language's own list form; empty when it removed nothing."""
    phrases = [REMOVED_PHRASES[kind](count) for kind, count in removed.items() if count]
    return format_list(phrases, locale=get_locale()) if phrases else ""


@bp.route("/presenter", methods=["POST"])
@public
def presenter():
    """Presenter mode on or off: larger type for a projector; kept in a cookie."""
    response = redirect_to(safe_return(request.form.get("next")))
    if request.cookies.get(PRESENTER_COOKIE) == "1":
        response.delete_cookie(PRESENTER_COOKIE)
    else:
        response.set_cookie(PRESENTER_COOKIE, "1", max_age=PRESENTER_MAX_AGE, httponly=True, samesite="Lax")
    return response


@bp.cli.command("practice-setup")
def practice_setup_command():
    """Make sure a practice sandbox exists (scripts/run calls this after migrate)."""
    with database.connection_context():
        sandbox, created = ensure_practice_sandbox()
    if created:
        click.echo(f"Created the practice sandbox {sandbox.name}: choose it in the header to practise without Twilio.")
    else:
        click.echo(f"The practice sandbox {sandbox.name} is ready.")
