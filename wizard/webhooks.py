"""Webhooks from Twilio: the URLs each credential and sandbox gets, applying them to the
Messaging Service, and the receivers for inbound messages and delivery status."""
import hmac
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from wizard import audit, custom_webhooks, keywords, twilio_api
from wizard.crypto import decrypt_remembered
from wizard.events import waiting_state
from wizard.db import database, group_commit, placeholder
from wizard.messages import inbound_from_twilio, record_status
from wizard.models import ApiCredential, CredentialNumber
from wizard.sandboxes import current_sandbox
from wizard.verification import client, twilio_says
from wizard.web import public_url, redirect_to, render, webhook

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
receivers = Blueprint("twilio_receivers", __name__, url_prefix="/hooks/twilio")

MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"


# --- URLs ----------------------------------------------------------------------------

def webhook_urls(number: CredentialNumber) -> dict:
    return {
        "inbound": public_url(url_for("twilio_receivers.inbound", key=number.webhook_key)),
        "status": public_url(url_for("twilio_receivers.status", key=number.webhook_key)),
    }


def status_callback_url(number: CredentialNumber) -> str | None:
    """The StatusCallback to pass when sending; only when Twilio can reach us (the practice
    sandbox's simulator always can: it calls the receivers in-process)."""
    if not current_app.config["PUBLIC_BASE_URL"] and not number.sandbox.is_practice:
        return None
    return webhook_urls(number)["status"]


def reachability_warning() -> str | None:
    if current_sandbox().is_practice:
        return None  # the simulator calls the receivers in-process
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        return _("PUBLIC_BASE_URL is not set: these URLs use the address you browse with, which Twilio "
                 "probably cannot reach. Set PUBLIC_BASE_URL to the public https address of this app.")
    if not base.startswith("https://"):
        return _("PUBLIC_BASE_URL is not https: Twilio needs a public https address to deliver webhooks.")
    return None


# --- receivers ---------------------------------------------------------------------

@dataclass(frozen=True)
class Receiver:
    """What a webhook URL names: its credential and sandbox, and the tokens that may sign."""

    credential_id: int
    sandbox_id: int
    tokens: tuple
    log_only: bool


# Written out once: every webhook request asks it, and building it per call costs more than running it.
_RECEIVER = ("SELECT n.credential_id, n.sandbox_id, c.auth_token, c.secondary_auth_token, c.webhook_log_only "
             "FROM credential_number n JOIN api_credential c ON c.id = n.credential_id WHERE n.webhook_key = {p}")


def _receiver(key: str) -> Receiver | None:
    param = placeholder()
    row = database.execute_sql(_RECEIVER.format(p=param), (key,)).fetchone()
    if row is None:
        return None
    credential_id, sandbox_id, token, secondary, log_only = row
    tokens = tuple(decrypt_remembered(t) for t in (token, secondary) if t)
    return Receiver(credential_id, sandbox_id, tokens, bool(log_only))


def _accept(key: str) -> tuple[Receiver, bool]:
    """The credential and sandbox this URL names, and whether the request is signed by Twilio.

    Refuses (and logs why) anything that isn't a signed form POST, unless the credential's
    log-only switch accepts it unsigned, flagged.
    """
    number = _receiver(key)
    if number is None:
        abort(404)
    request.max_content_length = MAX_BODY  # reading a larger body raises 413
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    if request.mimetype != FORM:
        current_app.logger.warning("webhook %s refused: content type %r", request.path, request.mimetype)
        abort(415)
    reason = _signature_problem(number.tokens)
    if reason is None:
        return number, True
    if number.log_only:
        current_app.logger.warning("webhook %s accepted unsigned (log-only): %s", request.path, reason)
        return number, False
    current_app.logger.warning("webhook %s refused: %s", request.path, reason)
    abort(403)


def _signature_problem(tokens) -> str | None:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return "no X-Twilio-Signature header"
    # Twilio signs the URL it called: the public one behind a proxy.
    url = request.url
    if current_app.config["PUBLIC_BASE_URL"]:
        query = request.query_string.decode()
        url = current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")
    for token in tokens:  # the Auth Token, then the secondary one during rotation
        validator = RequestValidator(token)
        # validate() signs the URL twice, with and without its port; the URL as it came
        # almost always matches alone, so that is tried first.
        computed = validator.compute_signature(url, request.form).encode()
        if hmac.compare_digest(computed, signature.encode()) or validator.validate(url, request.form, signature):
            return None
    return f"X-Twilio-Signature does not match {url}"


@receivers.route("/<key>/inbound", methods=["POST"])
@webhook
def inbound(key):
    number, signed = _accept(key)
    params = request.form.to_dict()

    def store_and_answer():
        message = inbound_from_twilio(credential=number.credential_id, sandbox=number.sandbox_id,
                                      params=params, signed=signed)
        return keywords.respond(message)

    reply = group_commit(store_and_answer)  # returns once the message is committed
    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return str(twiml), 200, {"Content-Type": "application/xml; charset=utf-8"}


@receivers.route("/<key>/status", methods=["POST"])
@webhook
def status(key):
    number, signed = _accept(key)
    params = request.form.to_dict()
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        return "MessageSid and MessageStatus are required", 400
    group_commit(lambda: record_status(  # returns once the callback is committed
        credential=number.credential_id, sandbox=number.sandbox_id, message_sid=params["MessageSid"][:64],
        status=params["MessageStatus"][:32], error_code=params.get("ErrorCode", "")[:16] or None,
        params=params, signed=signed))
    return "", 204


# --- the Webhooks page ---------------------------------------------------------------

def _numbers_here():
    sandbox = current_sandbox()
    return list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                .where(CredentialNumber.sandbox == sandbox, ApiCredential.vendor == "twilio")
                .order_by(ApiCredential.name_key))


@bp.route("")
def index():
    numbers = _numbers_here()
    return render("webhooks/index.html", numbers=numbers, urls={n.id: webhook_urls(n) for n in numbers},
                  waiting={n.credential_id: waiting_state(n.credential_id) for n in numbers},
                  warning=reachability_warning(), **custom_webhooks.list_context())


def _number(number_id: int) -> CredentialNumber:
    number = CredentialNumber.get_or_none(CredentialNumber.id == number_id)
    if number is None or number.sandbox_id != current_sandbox().id:
        abort(404)
    return number


@bp.route("/twilio/<int:number_id>/apply", methods=["GET", "POST"])
def apply(number_id):
    """Show what the Messaging Service has now beside ours; write ours only once confirmed."""
    number = _number(number_id)
    credential = number.credential
    ours = webhook_urls(number)
    api = client(credential.account_sid, credential.auth_token)
    error = None
    try:
        if request.method == "POST":
            twilio_api.update_messaging_service(api, credential.messaging_service_sid,
                                                inbound_request_url=ours["inbound"], status_callback=ours["status"],
                                                use_inbound_webhook_on_number=False)
            with database.atomic():
                audit.record("update", credential, {"twilio_webhooks": [None, ours]})
            flash(_("Twilio now sends %(name)s's messages and delivery status here.", name=credential.name), "success")
            return redirect_to(url_for("webhooks.index"))
        service = twilio_api.fetch_messaging_service(api, credential.messaging_service_sid)
    except twilio_api.TwilioError as failure:
        error, service = twilio_says(failure), None
    return render("webhooks/apply.html", "webhooks/_apply.html", status=502 if error else 200,
                  number=number, credential=credential, ours=ours, service=service, error=error)


@bp.route("/twilio/<int:credential_id>/security", methods=["POST"])
def security(credential_id):
    """The log-only switch and the secondary Auth Token accepted during token rotation."""
    from wizard.forms import AUTH_TOKEN

    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id) or abort(404)
    secondary = request.form.get("secondary_auth_token", "").strip()
    log_only = request.form.get("webhook_log_only") == "y"
    if secondary and not AUTH_TOKEN.match(secondary):
        flash(_("The secondary Auth Token must be 32 hex digits. Nothing was changed."), "error")
        return redirect_to(url_for("webhooks.index"))
    changes = {}
    with database.atomic():
        if log_only != credential.webhook_log_only:
            changes["webhook_log_only"] = [credential.webhook_log_only, log_only]
            credential.webhook_log_only = log_only
        if secondary or request.form.get("clear_secondary") == "y":
            changes["secondary_auth_token"] = "changed"
            credential.secondary_auth_token = secondary or None
        credential.save()
        if changes:
            audit.record("update", credential, changes, secret_fields=("secondary_auth_token",))
    flash(_("Webhook security of %(name)s saved.", name=credential.name), "success")
    return redirect_to(url_for("webhooks.index"))
