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
from wizard.providers.twilio.client import TwilioError, fetch_messaging_service
from wizard.shell.pages import redirect_to, render, safe_return
from wizard.webhooks.apply import apply_webhooks
from wizard.webhooks.custom_views import list_context
from wizard.webhooks.forms import WebhookSecurityForm

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _numbers_here():
    sandbox = current_sandbox()
    return list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                .where(CredentialNumber.sandbox == sandbox, ApiCredential.vendor == "twilio")
                .order_by(ApiCredential.name_key))


def _page(status=200, posted: WebhookSecurityForm | None = None, credential_id: int | None = None):
    """The page; `posted` is credential_id's security form as it was sent, with its errors."""
    numbers = _numbers_here()
    forms = {n.credential_id: WebhookSecurityForm(formdata=None, credential=n.credential) for n in numbers}
    if posted is not None:
        forms[credential_id] = posted
    return render("webhooks/index.html", status=status, numbers=numbers,
                  urls={n.id: webhook_urls(n) for n in numbers},
                  waiting={n.credential_id: waiting_state(n.credential_id) for n in numbers},
                  security_forms=forms, warning=reachability_warning(), **list_context())


@bp.route("")
def index():
    return _page()


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
            apply_webhooks(number)
            flash(_("Twilio now sends %(name)s's messages and delivery status here.", name=credential.name), "success")
            back = request.form.get("next")
            return redirect_to(safe_return(back) if back else url_for("webhooks.index"))
        service = fetch_messaging_service(api, credential.messaging_service_sid)
    except TwilioError as failure:
        error, service = twilio_says(failure), None
    return render("webhooks/apply.html", "webhooks/_apply.html", status=502 if error else 200,
                  number=number, credential=credential, ours=ours, service=service, error=error,
                  next=request.values.get("next"))


@bp.route("/twilio/<int:credential_id>/security", methods=["POST"])
def security(credential_id):
    """The log-only switch and the secondary Auth Token accepted during token rotation."""

    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id) or abort(404)
    form = WebhookSecurityForm(credential=credential)
    if not form.validate():
        return _page(422, form, credential.id)  # the message beside the field; nothing was changed
    secondary, log_only = form.secondary_auth_token.data or "", form.webhook_log_only.data
    changes = {}
    with database.atomic():
        if log_only != credential.webhook_log_only:
            changes["webhook_log_only"] = [credential.webhook_log_only, log_only]
            credential.webhook_log_only = log_only
        if secondary or form.clear_secondary.data:
            changes["secondary_auth_token"] = "changed"
            credential.secondary_auth_token = secondary or None
        credential.save()
        if changes:
            audit.record("update", credential, changes, secret_fields=("secondary_auth_token",))
    flash(_("Webhook security of %(name)s saved.", name=credential.name), "success")
    return redirect_to(url_for("webhooks.index"))
