"""Practice mode: sandboxes whose Twilio calls the app's own Twilio simulator answers.

In a practice sandbox the twilio client (wizard.verification.client) and custom-provider
sends to *.twilio.com (wizard.custom_provider.send) hand each request to one
TwilioSimulator per app, in-process: nothing reaches the network, whatever TWILIO_BASE_URL
says, and the same client code parses the answers. The simulator's messages move by
signed status callbacks, and the trainer's simulated replies arrive signed, both through
this app's own webhook receivers, as Twilio's would.

The simulator keeps its state in memory: it starts again from the practice seed when the
app restarts. Run one process for practice (each process has a simulator of its own).
"""
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import urlsplit

import click
from flask import Blueprint, abort, current_app, flash, has_request_context, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from wizard import audit
from wizard.db import database
from wizard.forms import e164_validator, no_spaces
from wizard.models import (ApiCredential, ChannelConfiguration, Consent, ConsentEvent, CredentialNumber, CustomWebhook,
                           GuidedRun, InboundMessage, KeywordRule, KeywordSettings, OutboundMessage, Sandbox,
                           StatusEvent)
from wizard.sandboxes import current_sandbox
from wizard.twilio_api import WsgiAdapter
from wizard.twilio_simulator import (DEMO_ACCOUNT, DEMO_SERVICES, DEMO_UNASSIGNED_NUMBER, INVALID_TO_NUMBER,
                                     PRACTICE_ACCOUNTS, PRACTICE_PHONE, SUSPENDED_ACCOUNT, TRIAL_ACCOUNT,
                                     TRIAL_SERVICE, UNDELIVERABLE_NUMBER, TwilioSimulator, practice_seed)
from wizard.web import is_htmx, public, redirect_to, render, safe_return
from wizard.webhooks import webhook_urls

bp = Blueprint("practice", __name__, url_prefix="/practice", cli_group=None)

EXTENSION = "wizard.twilio_simulator"
PRACTICE_SANDBOX_NAME = "practice"
PRESENTER_COOKIE = "presenter"
PRESENTER_MAX_AGE = 365 * 24 * 3600
# The receivers a simulated Twilio may call: ours, in-process.
RECEIVERS = {"twilio_receivers.status", "twilio_receivers.inbound"}
QUICK_REPLIES = ("STOP", "HELP", "YES")
_creating = threading.Lock()


# --- The simulator and where requests go ----------------------------------------------------

def simulator(app=None) -> TwilioSimulator:
    """This app's Twilio simulator, started with the practice seed on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(EXTENSION)
    if found is None:
        with _creating:
            found = app.extensions.get(EXTENSION)
            if found is None:
                found = TwilioSimulator(seed=practice_seed, deliver=_deliverer(app), keep_requests=500)
                app.extensions[EXTENSION] = found
    return found


def in_practice() -> bool:
    """Whether this request works in a practice sandbox."""
    if not has_request_context():
        return False
    sandbox = current_sandbox()
    return bool(sandbox is not None and sandbox.is_practice)


def simulator_for_this_request() -> TwilioSimulator | None:
    """The simulator when this request works in a practice sandbox; None: Twilio itself."""
    return simulator() if in_practice() else None


def _is_twilio(url: str) -> bool:
    try:
        parts = urlsplit((url or "").strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


@dataclass(frozen=True)
class PracticeTransport:
    """What a custom-provider send in a practice sandbox goes through: the simulator, never the network."""

    adapter: WsgiAdapter

    def refusal(self, settings) -> str | None:
        """Why these provider settings can't be sent from a practice sandbox, or None."""
        urls = [settings.provider_url]
        if settings.auth_type == "oauth2":
            urls.append(settings.setting("oauth_token_url"))
        for url in urls:
            if not _is_twilio(url):
                return _("This is a practice sandbox: only the Twilio simulator answers here, so only "
                         "https://…twilio.com URLs can be used. %(url)s was not contacted.", url=url or "—")
        return None


def provider_transport() -> PracticeTransport | None:
    found = simulator_for_this_request()
    return PracticeTransport(WsgiAdapter(found.wsgi_app)) if found is not None else None


def _deliverer(app):
    """How the simulator's webhooks arrive: built as Twilio sends them, handed to this app's
    receivers in-process. A URL that is not one of our receivers is not delivered."""

    def deliver(url: str, params: dict, signature: str):
        target = urlsplit(url)
        try:
            endpoint, _args = app.url_map.bind(target.netloc or "localhost").match(target.path, method="POST")
        except HTTPException:
            return None
        if endpoint not in RECEIVERS:
            return None
        response = app.test_client().post(
            target.path, base_url=f"{target.scheme}://{target.netloc}", query_string=target.query,
            data=params, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    return deliver


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


# --- What the pages show ---------------------------------------------------------------------

def practice_facts() -> dict:
    """The practice seed as the panels show it."""
    return {"demo": DEMO_ACCOUNT, "services": DEMO_SERVICES, "unassigned": DEMO_UNASSIGNED_NUMBER,
            "trial": TRIAL_ACCOUNT, "trial_service": TRIAL_SERVICE, "suspended": SUSPENDED_ACCOUNT,
            "invalid_to": INVALID_TO_NUMBER, "undeliverable": UNDELIVERABLE_NUMBER, "phone": PRACTICE_PHONE}


def practice_numbers(sandbox) -> list[CredentialNumber]:
    """The Twilio credentials' numbers in this sandbox: where a simulated reply can be sent."""
    return list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                .where(CredentialNumber.sandbox == sandbox, ApiCredential.vendor == "twilio")
                .order_by(ApiCredential.name_key))


class InboundReplyForm(FlaskForm):
    # Ids of their own: the form shares pages (Events) with other forms.
    number = SelectField(_l("To"), coerce=int, validate_choice=True, id="inbound-number")
    from_number = StringField(_l("From"), filters=[no_spaces], default=PRACTICE_PHONE, id="inbound-from", validators=[
        DataRequired(_l("Enter the number the reply comes from.")), e164_validator])
    body = TextAreaField(_l("Message"), id="inbound-body", validators=[Length(max=1600, message=_l(
        "A message has at most 1600 characters."))])

    def __init__(self, numbers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.number.choices = [(n.id, f"{n.phone_number} · {n.credential.name}") for n in numbers]

    def message_body(self) -> str:
        """The quick reply whose button was pressed, else what was typed."""
        quick = request.form.get("quick", "")
        return quick if quick in QUICK_REPLIES else (self.body.data or "")


def inbound_form(formdata=None) -> InboundReplyForm | None:
    """The Simulate inbound reply form for this sandbox; None outside practice."""
    if not in_practice():
        return None
    return InboundReplyForm(practice_numbers(current_sandbox()), formdata=formdata)


@bp.app_context_processor
def practice_context():
    if not has_request_context():
        return {}
    return {"presenter_mode": request.cookies.get(PRESENTER_COOKIE) == "1",
            "practice_facts": practice_facts, "practice_inbound_form": inbound_form}


# --- Pages ----------------------------------------------------------------------------------

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
        flash(_("“%(body)s” from %(sender)s reached the inbound webhook of %(number)s.", body=result.body,
                sender=result.from_number, number=result.to_number), "success")
        if result.reply:
            flash(_("Our reply: %(reply)s", reply=result.reply), "success")
    else:
        flash(_("The inbound webhook answered %(status)s: the message was not stored.", status=result.status),
              "error")


def _practice_sandbox(sandbox_id: int) -> Sandbox:
    sandbox = Sandbox.get_or_none(Sandbox.id == sandbox_id)
    if sandbox is None or not sandbox.is_practice:
        abort(404)
    return sandbox


@bp.route("/<int:sandbox_id>/reset", methods=["GET", "POST"])
def reset(sandbox_id):
    """Reset practice data: this practice sandbox's rows and the simulator, after confirmation."""
    sandbox = _practice_sandbox(sandbox_id)
    if request.method == "GET":
        return render("practice/reset.html", sandbox=sandbox)
    removed = reset_practice_data(sandbox)
    flash(_("Practice data of sandbox %(name)s reset: %(count)s objects removed, the simulator is back to its "
            "starting point.", name=sandbox.name, count=removed), "success")
    return redirect_to(url_for("practice.index"))


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


# --- Reset practice data -----------------------------------------------------------------------

def _practice_run(run: GuidedRun, sandbox: Sandbox, credential_ids: set[int]) -> bool:
    """Whether an unfinished guided run belongs to this practice sandbox: it uses a practice
    account, was started here (RCS), or builds on a credential that the reset removes."""
    draft = run.data
    values, facts = draft.get("values", {}), draft.get("facts", {})
    sids = {account.sid for account in PRACTICE_ACCOUNTS}
    if values.get("account", {}).get("account_sid") in sids:
        return True
    if facts.get("register", {}).get("sandbox_id") == sandbox.id:
        return True
    chosen = str(values.get("register", {}).get("twilio_credential") or "")
    return chosen.isdigit() and int(chosen) in credential_ids


def reset_practice_data(sandbox: Sandbox) -> int:
    """Delete this sandbox's channel configurations, webhooks, keyword rules, events, consent and
    numbers, the credentials only it used and its unfinished runs; then reset the simulator.
    Nothing of any other sandbox is touched. Returns how many objects were removed."""
    if not sandbox.is_practice:
        raise ValueError("only a practice sandbox is reset")
    removed = 0
    with database.atomic():
        numbers = list(CredentialNumber.select().where(CredentialNumber.sandbox == sandbox))
        webhooks = list(CustomWebhook.select().where(CustomWebhook.sandbox == sandbox))
        credential_ids = {n.credential_id for n in numbers} | {w.credential_id for w in webhooks if w.credential_id}
        for configuration in ChannelConfiguration.select().where(ChannelConfiguration.sandbox == sandbox):
            audit.record("delete", configuration, {"name": [configuration.name, None]})
            configuration.delete_instance()
            removed += 1
        for webhook in webhooks:
            audit.record("delete", webhook, {"name": [webhook.name, None]})
            webhook.delete_instance()
            removed += 1
        for rule in KeywordRule.select().where(KeywordRule.sandbox == sandbox):
            audit.record("delete", rule, {"keywords": [rule.keyword_list, None]})
            rule.delete_instance()
            removed += 1
        for settings in KeywordSettings.select().where(KeywordSettings.sandbox == sandbox):
            audit.record("delete", settings, {"default_reply": [settings.default_reply, None]})
            settings.delete_instance()
            removed += 1
        consents = Consent.select(Consent.id).where(Consent.sandbox == sandbox)
        ConsentEvent.delete().where(ConsentEvent.consent.in_(consents)).execute()
        Consent.delete().where(Consent.sandbox == sandbox).execute()
        for model in (InboundMessage, StatusEvent, OutboundMessage):
            model.delete().where(model.sandbox == sandbox).execute()
        CredentialNumber.delete().where(CredentialNumber.sandbox == sandbox).execute()
        for credential in ApiCredential.select().where(ApiCredential.id.in_(list(credential_ids) or [0])):
            number = next((n.phone_number for n in numbers if n.credential_id == credential.id), None)
            still_used = (CredentialNumber.select().where(CredentialNumber.credential == credential).exists()
                          or CustomWebhook.select().where(CustomWebhook.credential == credential).exists()
                          or ChannelConfiguration.select().where(ChannelConfiguration.credential == credential).exists())
            if still_used:  # another sandbox uses it: only its number here goes
                audit.record("update", credential, {"numbers": [{sandbox.name: number}, None]})
                continue
            audit.record("delete", credential, {"name": [credential.name, None]},
                         secret_fields=ApiCredential.SECRET_FIELDS)
            credential.delete_instance()
            removed += 1
        for run in list(GuidedRun.select()):
            if _practice_run(run, sandbox, credential_ids):
                run.delete_instance()
        audit.record("update", sandbox, {"practice_data": [None, "reset"]})
    simulator().reset()
    current_app.logger.info("practice data of sandbox %s reset (%s objects)", sandbox.name, removed)
    return removed


# --- First run --------------------------------------------------------------------------------

def ensure_practice_sandbox() -> tuple[Sandbox, bool]:
    """A practice sandbox to start in: the existing one, else a new one named "practice"."""
    existing = Sandbox.select().where(Sandbox.is_practice == True).order_by(Sandbox.id).first()  # noqa: E712
    if existing is not None:
        return existing, False
    name = PRACTICE_SANDBOX_NAME
    taken = {row.name_key for row in Sandbox.select(Sandbox.name_key)}
    suffix = 2
    while Sandbox.key_for(name) in taken:  # a real sandbox already has the name: leave it as it is
        name, suffix = f"{PRACTICE_SANDBOX_NAME} {suffix}", suffix + 1
    with database.atomic():
        sandbox = Sandbox.create(name=name, name_key=Sandbox.key_for(name), is_practice=True)
        audit.record("create", sandbox, {"name": [None, name], "is_practice": [None, True]})
    return sandbox, True


@bp.cli.command("practice-setup")
def practice_setup_command():
    """Make sure a practice sandbox exists (scripts/run calls this after migrate)."""
    with database.connection_context():
        sandbox, created = ensure_practice_sandbox()
    if created:
        click.echo(f"Created the practice sandbox {sandbox.name}: choose it in the header to practise without Twilio.")
    else:
        click.echo(f"The practice sandbox {sandbox.name} is ready.")
