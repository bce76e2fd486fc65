"""The Webhooks page: each number's URLs, Apply to Twilio, signature settings; custom webhooks beside."""
from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber
from wizard.messaging.receiver_urls import reachability_warning, webhook_urls
from wizard.messaging.store import waiting_state
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import twilio_says
from wizard.providers.twilio.client import (
    TwilioError,
    fetch_messaging_service,
    update_messaging_service,
)
from wizard.shell.fields import AUTH_TOKEN
from wizard.shell.pages import redirect_to, render
from wizard.webhooks.custom_views import list_context

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


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
                  warning=reachability_warning(), **list_context())


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
    api = TwilioAccount.of(credential).client()
    error = None
    try:
        if request.method == "POST":
            update_messaging_service(api, credential.messaging_service_sid,
                                                inbound_request_url=ours["inbound"], status_callback=ours["status"],
                                                use_inbound_webhook_on_number=False)
            with database.atomic():
                audit.record("update", credential, {"twilio_webhooks": [None, ours]})
            flash(_("Twilio now sends %(name)s's messages and delivery status here.", name=credential.name), "success")
            return redirect_to(url_for("webhooks.index"))
        service = fetch_messaging_service(api, credential.messaging_service_sid)
    except TwilioError as failure:
        error, service = twilio_says(failure), None
    return render("webhooks/apply.html", "webhooks/_apply.html", status=502 if error else 200,
                  number=number, credential=credential, ours=ours, service=service, error=error)


@bp.route("/twilio/<int:credential_id>/security", methods=["POST"])
def security(credential_id):
    """The log-only switch and the secondary Auth Token accepted during token rotation."""

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
