"""Verify SMS connection: a Twilio credential's live checks, a test message and its status."""
import re

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from wizard.core.context import current_sandbox
from wizard.core.models import ApiCredential, OutboundMessage
from wizard.credentials.blueprint import bp
from wizard.credentials.forms import SmsTestForm
from wizard.credentials.segments import count_segments
from wizard.credentials.service_setup import trial_context, verified_recipients
from wizard.credentials.test_message import is_trial, send_test_message
from wizard.credentials.views import _get_twilio
from wizard.messaging.statuses import FINAL, MESSAGE_STATUS, error_meaning, error_page
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import CheckFailed, as_sentence, twilio_says
from wizard.providers.twilio.client import (
    TRIAL_UNVERIFIED_CODE,
    SentMessage,
    TwilioError,
    TwilioUnreachable,
    fetch_message,
)
from wizard.shell.pages import is_htmx, redirect_to, render

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")


# Twilio's codes that are about the recipient, and about the body: shown beside that field.
RECIPIENT_ERRORS = {21211, 21265, 21401, 21407, 21408, 21421, 21604, 21608, 21610, 21612, 21614, 21635}


BODY_ERRORS = {21602, 21617}


def _client(credential: ApiCredential):
    return TwilioAccount.of(credential).client()


def test_message_context(credential: ApiCredential, form: SmsTestForm | None = None) -> dict:
    """What the test message form (credentials/_verify_section.html) needs, on any page that shows it.
    A Trial account's verified numbers are offered as recipients (the first one filled in)."""
    form = form or SmsTestForm(formdata=None)
    trial = {"trial": False}
    if is_trial(credential):
        trial = {"trial": True, **trial_context(), "verified": [], "verified_error": None}
        try:
            trial["verified"] = verified_recipients(TwilioAccount.of(credential))
        except CheckFailed as failure:
            trial["verified_error"] = failure.message
        if not form.number.data and trial["verified"]:
            form.number.data = trial["verified"][0]
    return {"credential": credential, "form": form, "segments": count_segments(form.message.data or ""),
            "simulated": TwilioAccount.of(credential).transport.practice, **trial}


def message_status_context(sent: SentMessage | None, message_sid: str, error: str | None = None,
                    retry: bool = False) -> dict:
    """What the status of a test message (credentials/_message_status.html) shows; it asks again
    by itself while the message can still move, or while Twilio could not be reached."""
    code = sent.error_code if sent else None
    return {"sent": sent, "message_sid": message_sid, "message_error": error, "statuses": MESSAGE_STATUS,
            "polling": (sent.status not in FINAL) if sent else retry,
            "twilio_error": _("Twilio error %(code)s: %(message)s", code=code,
                              message=as_sentence(sent.error_message or "")) if code else None,
            "error_meaning": error_meaning(code), "error_page": error_page(code) if code else None,
            "timeline": OutboundMessage.select().where(OutboundMessage.message_sid == message_sid,
                                                       OutboundMessage.sandbox == current_sandbox()).exists()}


def _verify_page(credential, form, status=200, **context):
    return render("credentials/verify.html", "credentials/_verify_section.html", status=status,
                  **test_message_context(credential, form), **context)


@bp.route("/<int:credential_id>/verify", methods=["GET", "POST"])
def verify(credential_id):
    """Send a test message through the credential's Messaging Service.

    A POST with `_counter` only counts characters and segments (htmx as the admin types,
    or the Count button without JavaScript); nothing is sent then.
    """
    credential = _get_twilio(credential_id)
    form = SmsTestForm()
    if request.method == "POST" and request.args.get("_counter"):
        if is_htmx():
            return render_template("credentials/_counter.html", segments=count_segments(form.message.data or ""))
        return _verify_page(credential, form)
    if not form.validate_on_submit():
        return _verify_page(credential, form, status=422 if form.errors else 200)
    try:
        sent = send_test_message(credential, form.number.data, form.message.data)
    except CheckFailed as failure:  # the Trial account's verified numbers could not be listed
        form.form_errors.append(failure.message)
        return _verify_page(credential, form, status=422, retry=failure.retry)
    except TwilioError as error:
        retry = isinstance(error, TwilioUnreachable)
        if retry:
            form.form_errors.append(_("%(reason)s. Your input is kept; try again.", reason=error.message))
        elif error.code == TRIAL_UNVERIFIED_CODE and is_trial(credential):
            form.number.errors.append(twilio_says(error) + " " + _("Nothing was sent. Choose one of the "
                                                                   "verified numbers listed above."))
        elif error.code in RECIPIENT_ERRORS:
            form.number.errors.append(twilio_says(error))
        elif error.code in BODY_ERRORS:
            form.message.errors.append(twilio_says(error))
        else:
            form.form_errors.append(twilio_says(error))
        return _verify_page(credential, form, status=422, retry=retry)
    if not is_htmx():
        return redirect_to(url_for("credentials.message", credential_id=credential.id, message_sid=sent.sid))
    return _verify_page(credential, form, **message_status_context(sent, sent.sid))


def current_status(credential: ApiCredential, message_sid: str) -> dict:
    """The test message as Twilio knows it now, as its status panel shows it."""
    sent, error, retry = None, None, False
    try:
        sent = fetch_message(_client(credential), message_sid)
    except TwilioUnreachable as unreachable:
        error, retry = _("%(reason)s. Asking again…", reason=unreachable.message), True
    except TwilioError as failure:
        error = twilio_says(failure)
    return message_status_context(sent, message_sid, error, retry)


@bp.route("/<int:credential_id>/messages/<message_sid>")
def message(credential_id, message_sid):
    """A test message as Twilio knows it now: its status, fetched again on every request."""
    credential = _get_twilio(credential_id)
    if not MESSAGE_SID.match(message_sid):
        abort(404)
    status = current_status(credential, message_sid)
    sent = status["sent"]
    if is_htmx() and sent and request.args.get("seen") == sent.status:
        return "", 204  # the status asking again, and no news: what is shown (and read out) stays
    if is_htmx():  # the status asking again: just itself, and no flash messages taken from the page
        return render_template("credentials/_message_status.html", credential=credential, **status)
    return render("credentials/verify.html", **test_message_context(credential), **status)
