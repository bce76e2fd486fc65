"""The receivers for Twilio's inbound messages and delivery status, signature checked."""
import hmac
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from wizard.core.crypto import decrypt_remembered
from wizard.core.db import database, group_commit, sql_parameter
from wizard.messaging.keywords import respond
from wizard.messaging.store import inbound_from_twilio, record_status
from wizard.shell.pages import webhook

bp = Blueprint("twilio_receivers", __name__, url_prefix="/hooks/twilio")


MAX_BODY = 64 * 1024


FORM = "application/x-www-form-urlencoded"


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
    param = sql_parameter()
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


@bp.route("/<key>/inbound", methods=["POST"])
@webhook
def inbound(key):
    number, signed = _accept(key)
    params = request.form.to_dict()

    def store_and_answer():
        message = inbound_from_twilio(credential=number.credential_id, sandbox=number.sandbox_id,
                                      params=params, signed=signed)
        return None if message is None else respond(message)

    # Returns once the message is committed. A delivery of a MessageSid already stored (Twilio's
    # retry, or the same request twice at once) stores nothing, changes no consent and is
    # answered with an empty <Response/>: the reply goes out at most once. Should the first
    # answer have been lost, no reply is sent at all, which beats a second SMS after a STOP.
    reply = group_commit(store_and_answer)
    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return str(twiml), 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.route("/<key>/status", methods=["POST"])
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
