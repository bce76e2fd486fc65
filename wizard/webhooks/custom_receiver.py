"""The custom-provider webhook receiver: reads a provider's JSON by its sample's shape."""
import hashlib
import hmac
import json

from flask import Blueprint, current_app, jsonify, request

from wizard.core import json_text
from wizard.core.db import database
from wizard.core.models import CustomWebhook, InboundMessage
from wizard.messaging.keywords import respond
from wizard.messaging.store import record_status
from wizard.providers.custom.shape import (
    REQUIRED,
    ShapeMismatch,
    extract,
    parse,
    path_text,
)
from wizard.shell.pages import webhook
from wizard.webhooks.custom_forms import MAX_PAYLOAD

bp = Blueprint("custom_webhook_receiver", __name__, url_prefix="/hooks/custom")


# Where each value goes, with the longest it may be; the first group may not be empty.
NOT_EMPTY = {"inbound": ("ProfileNumber", "RequestID", "InboundNumber"), "feedback": ("clientReference", "status")}


LONGEST = {"RequestID": 64, "ProfileNumber": 32, "InboundNumber": 32, "clientReference": 64, "status": 32,
           "code": 16}


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _reject(status: int, reason: str, custom_webhook: CustomWebhook | None):
    who = f"custom webhook {custom_webhook.id} ({custom_webhook.name})" if custom_webhook else "custom webhook"
    current_app.logger.warning("%s rejected a request from %s with %s: %s", who, request.remote_addr, status, reason)
    return jsonify(error=reason), status


def _body(custom_webhook: CustomWebhook) -> bytes:
    """The raw body, read no further than the limit, after the cheap checks."""
    if request.content_length is not None and request.content_length > MAX_PAYLOAD:
        raise Rejected(413, f"the body is larger than {MAX_PAYLOAD} bytes")
    if request.mimetype != "application/json":
        raise Rejected(415, f"the Content-Type is {request.mimetype or 'missing'}, not application/json")
    raw = request.stream.read(MAX_PAYLOAD + 1)
    if len(raw) > MAX_PAYLOAD:
        raise Rejected(413, f"the body is larger than {MAX_PAYLOAD} bytes")
    return raw


def _check_signature(custom_webhook: CustomWebhook, raw: bytes):
    """With a shared secret, the header must be the hex HMAC-SHA256 of the raw body."""
    secret = custom_webhook.hmac_secret
    if not secret:
        return  # the unguessable key in the URL is the authentication
    header = custom_webhook.hmac_header
    given = (request.headers.get(header) or "").strip()
    if not given:
        raise Rejected(403, f"the signature header {header} is missing")
    if given[:7].lower() == "sha256=":
        given = given[7:]
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("utf-8")):
        raise Rejected(403, f"the signature in {header} does not match the body")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _read(custom_webhook: CustomWebhook, raw: bytes) -> tuple[dict, dict]:
    """The body as JSON and the values the webhook's sample says where to find."""
    try:
        body = json_text.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not UTF-8 text") from None
    except json_text.TooDeep as error:
        raise Rejected(400, f"the JSON is nested deeper than {json_text.MAX_DEPTH} levels (at line {error.lineno}, "
                            f"column {error.colno})") from None
    except json.JSONDecodeError as error:
        raise Rejected(400, f"invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    if not isinstance(body, dict):
        raise Rejected(400, "the body is not a JSON object")
    shape = parse(custom_webhook.payload)
    wanted = {name: shape.paths[name] for name in REQUIRED[custom_webhook.type] if name in shape.paths}
    try:
        found = extract(wanted, body)
    except ShapeMismatch as mismatch:
        raise Rejected(400, str(mismatch)) from None
    values = {name: _text(value) for name, value in found.items()}
    for name, value in values.items():
        where = path_text(wanted[name])
        if name in NOT_EMPTY[custom_webhook.type] and not value.strip():
            raise Rejected(400, f"field {where} is empty")
        if len(value) > LONGEST.get(name, len(value)):
            raise Rejected(400, f"field {where} is longer than {LONGEST[name]} characters")
    return body, values


@bp.route("/<key>", methods=["POST"])
@webhook
def receive(key):
    """A custom provider's request: stored, and answered 2xx only after the commit."""
    custom_webhook = CustomWebhook.get_or_none(CustomWebhook.key == key)
    if custom_webhook is None:
        return _reject(404, "no webhook has this URL", None)
    try:
        raw = _body(custom_webhook)
        _check_signature(custom_webhook, raw)
        body, values = _read(custom_webhook, raw)
    except Rejected as rejected:
        return _reject(rejected.status, rejected.reason, custom_webhook)
    if custom_webhook.type == "feedback":
        return _feedback(custom_webhook, body, values)
    return _inbound(custom_webhook, raw, values)


def _inbound(custom_webhook: CustomWebhook, raw: bytes, values: dict):
    with database.atomic():
        earlier = (InboundMessage.select()
                   .where(InboundMessage.custom_webhook == custom_webhook.id,
                          InboundMessage.message_sid == values["RequestID"])
                   .first())
        if earlier is not None:
            # A provider's retry: its keyword was handled the first time.
            return jsonify(status="duplicate", reply=earlier.reply)
        message = InboundMessage.create(
            credential=custom_webhook.credential_id, sandbox=custom_webhook.sandbox_id,
            custom_webhook=custom_webhook.id, source="custom", message_sid=values["RequestID"],
            from_number=values["ProfileNumber"].strip(), to_number=values["InboundNumber"].strip(),
            body=values["InboundMessage"], params=raw.decode("utf-8"),
            signed=True,  # the key in the URL authenticates; a configured HMAC was checked too
        )
        reply = respond(message)
    return jsonify(status="stored", reply=reply)


def _feedback(custom_webhook: CustomWebhook, body: dict, values: dict):
    with database.atomic():
        stored = record_status(
            sandbox=custom_webhook.sandbox_id, credential=custom_webhook.credential_id, source="custom",
            custom_webhook=custom_webhook.id, message_sid=values["clientReference"], status=values["status"],
            error_code=values["code"] or None, params=body, signed=True,
        )
    return jsonify(status="stored" if stored else "duplicate")
