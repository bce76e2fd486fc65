"""Custom-provider webhooks: their setup and their receiver.

A custom provider (RCS and others) posts JSON in its own format. The admin pastes the
provider's sample body with placeholders where the values are; the receiver reads real
requests by that shape (wizard.payload_shape). The unguessable key in the URL names the
webhook and authenticates the call; an optional HMAC-SHA256 header over the raw body
proves it further.
"""
import hashlib
import hmac
import json
import re
import shlex

import peewee
from flask import Blueprint, abort, current_app, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from wizard import audit, keywords, payload_shape
from wizard.db import database
from wizard.editing import EditConflict, saved_meanwhile, update_unchanged
from wizard.forms import (CONTROL_CHARACTERS, ChoosesCredential, credentials_with_a_number, one_kind_of_newline,
                          strip)
from wizard.messages import record_status
from wizard.models import ApiCredential, CustomWebhook, InboundMessage
from wizard.payload_shape import REQUIRED, ShapeMismatch
from wizard.sandboxes import current_sandbox, get_here
from wizard.web import is_htmx, public_url, redirect_to, render, webhook

bp = Blueprint("custom_webhooks", __name__, url_prefix="/webhooks/custom")
receiver = Blueprint("custom_webhook_receiver", __name__, url_prefix="/hooks/custom")

TYPES = {"inbound": _l("Inbound"), "feedback": _l("Feedback")}
MAX_PAYLOAD = 64 * 1024  # bytes, for the sample and for a request body alike
# RFC 9110's token: what a header name may be (no spaces, no CR or LF).
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# What the admin edits, in the form's order; any but the secret checks itself as the admin leaves it.
FIELDS = ("name", "type", "credential", "sender_number", "payload", "hmac_secret", "hmac_header")
# The example values Send a sample puts where the placeholders are.
SAMPLE_VALUES = {
    "InboundMessage": "HELP", "ProfileNumber": "+14155550123", "RequestID": "sample-request-1",
    "OriginTimestamp": "2024-01-01T12:00:00Z", "clientReference": "sample-message-1", "code": "0",
    "status": "delivered",
}


def placeholder(name: str) -> str:
    return "{{" + name + "}}"


# --- The form ------------------------------------------------------------------------------

class CustomWebhookForm(ChoosesCredential, FlaskForm):
    """A custom webhook in one sandbox; an Inbound one names the credential and number it serves."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a name for the webhook.")),
                    Length(max=128, message=_l("A name has at most 128 characters."))],
    )
    type = SelectField(_l("Type"), choices=[SelectChoice(key, label) for key, label in TYPES.items()],
                       default="inbound", validate_choice=False)
    credential = SelectField(_l("API credential"), validate_choice=False)
    sender_number = SelectField(_l("Sender number"), validate_choice=False)
    payload = TextAreaField(
        _l("Payload"),
        filters=[one_kind_of_newline],
        validators=[DataRequired(_l("Paste the provider's sample JSON, with placeholders where the values are."))],
    )
    hmac_secret = PasswordField(
        _l("HMAC secret"),
        filters=[strip],
        validators=[Length(max=1024, message=_l("An HMAC secret has at most 1024 characters."))],
    )
    remove_hmac_secret = BooleanField(_l("Remove the stored HMAC secret"))
    hmac_header = StringField(
        _l("Signature header"),
        default="X-Signature",
        filters=[strip],
        validators=[DataRequired(_l("Enter the name of the header that carries the signature."))],
    )
    version = HiddenField()  # the version the edit form was opened at

    def __init__(self, *args, sandbox, webhook_id=None, secret_stored=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox, self.webhook_id, self.secret_stored = sandbox, webhook_id, secret_stored
        self.payload_warnings: list[str] = []
        # Inbound webhooks serve a credential that has a number in this sandbox.
        self.numbers = credentials_with_a_number(sandbox)
        if self.credential.data is None and len(self.numbers) == 1:
            # The one credential this sandbox has: nothing to choose.
            self.credential.data, self.sender_number.data = str(next(iter(self.numbers))), None
        self.offer_credentials(sandbox)
        number = self.number_here()
        if number and self.sender_number.data is None:
            self.sender_number.data = number

    @property
    def inbound(self) -> bool:
        return self.type.data != "feedback"

    @property
    def needed_placeholders(self) -> list[str]:
        """The placeholders the chosen type reads, as the admin writes them."""
        return [placeholder(name) for name in REQUIRED.get(self.type.data, REQUIRED["inbound"])]

    def validate_name(self, field):
        if field.errors or not field.data:
            return
        if CONTROL_CHARACTERS.search(field.data):
            raise ValidationError(_l("A name cannot contain control characters."))
        clash = CustomWebhook.select().where(CustomWebhook.name_key == field.data.casefold())
        if self.webhook_id is not None:
            clash = clash.where(CustomWebhook.id != self.webhook_id)
        clash = clash.first()
        if clash is not None:
            raise ValidationError(_("A webhook with this name already exists in sandbox %(sandbox)s.",
                                    sandbox=clash.sandbox.name))

    def validate_type(self, field):
        if field.data not in TYPES:
            raise ValidationError(_l("Choose Inbound or Feedback."))

    def validate_credential(self, field):
        if not self.inbound:
            return
        if not field.data:
            raise ValidationError(_l("Choose the API credential whose messages this webhook receives."))
        chosen = self.chosen_credential
        if chosen is None:
            raise ValidationError(_l("That API credential no longer exists. Choose another one."))
        if chosen.id not in self.numbers:
            raise ValidationError(_("API credential %(name)s has no number in sandbox %(sandbox)s. Add its incoming "
                                    "number for sandbox %(sandbox)s on the API credential's page, then choose it "
                                    "here.", name=chosen.name, sandbox=self.sandbox.name))

    def validate_sender_number(self, field):
        number = self.number_here()
        if not self.inbound or number is None:
            return  # the credential's own error says what is wrong
        if not field.data:
            raise ValidationError(_l("Choose the sender number."))
        if field.data != number:
            # Without JavaScript the list still showed the previous credential's number.
            chosen, field.data = field.data, number
            raise ValidationError(_("API credential %(name)s has the number %(number)s in sandbox %(sandbox)s, "
                                    "not %(chosen)s. Its number is selected now; save again to use it.",
                                    name=self.chosen_credential.name, number=number, sandbox=self.sandbox.name,
                                    chosen=chosen))

    def validate_payload(self, field):
        if field.errors or not field.data:
            return
        problems, self.payload_warnings = check_payload(field.data, self.type.data)
        if problems:
            raise ValidationError(problems[0])

    def validate_hmac_secret(self, field):
        if field.data and CONTROL_CHARACTERS.search(field.data):
            raise ValidationError(_l("An HMAC secret cannot contain control characters."))

    def validate_hmac_header(self, field):
        if field.errors or not field.data:
            return
        if len(field.data) > 64:
            raise ValidationError(_l("A header name has at most 64 characters."))
        if not HEADER_NAME.fullmatch(field.data):
            raise ValidationError(_l("A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, "
                                     "with no spaces, e.g. X-Signature."))


def check_payload(payload: str, webhook_type: str) -> tuple[list[str], list[str]]:
    """What is wrong with a sample (errors) and what is merely odd (warnings: saved anyway)."""
    size = len(payload.encode("utf-8"))
    if size > MAX_PAYLOAD:
        return [_("A payload has at most 64 KB; this one has %(size)s KB.", size=(size + 1023) // 1024)], []
    try:
        sample = json.loads(payload)
    except json.JSONDecodeError as error:
        return [_("This is not valid JSON: %(reason)s at line %(line)s, column %(column)s.",
                  reason=error.msg, line=error.lineno, column=error.colno)], []
    if not isinstance(sample, dict):
        return [_("The payload is a JSON object: it starts with { and ends with }.")], []
    shape = payload_shape.parse_value(sample)
    required = REQUIRED.get(webhook_type, REQUIRED["inbound"])
    problems = []
    missing = shape.missing(required)
    if missing:
        problems.append(ngettext("%(placeholders)s is missing: put it where the provider's JSON has that value.",
                                 "%(placeholders)s are missing: put each where the provider's JSON has that value.",
                                 len(missing), placeholders=", ".join(map(placeholder, missing))))
    problems += [_("%(placeholder)s is used more than once (at %(paths)s): a placeholder marks one place.",
                   placeholder=placeholder(name), paths=", ".join(map(payload_shape.path_text, paths)))
                 for name, paths in shape.repeated.items()]
    problems += [_("%(placeholder)s at %(path)s is part of a longer text: a placeholder is the whole value, "
                   "like \"%(placeholder)s\".", placeholder=placeholder(name), path=payload_shape.path_text(path))
                 for name, path in shape.embedded]
    unknown = shape.unknown(required)
    warnings = [ngettext("%(placeholders)s is not a value this webhook reads; it is saved, but ignored.",
                         "%(placeholders)s are not values this webhook reads; they are saved, but ignored.",
                         len(unknown), placeholders=", ".join(map(placeholder, unknown)))] if unknown else []
    # One message beside the field, however many problems it has.
    return ([" ".join(problems)] if problems else []), warnings


# --- Reading ---------------------------------------------------------------------------------

def receiver_url(custom_webhook: CustomWebhook) -> str:
    """Where the provider posts: PUBLIC_BASE_URL (else this request's host) plus the key's path."""
    return public_url(url_for("custom_webhook_receiver.receive", key=custom_webhook.key))


def reachability_warning() -> str | None:
    """Why the provider may not reach the URLs shown, if it may not."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        return _("PUBLIC_BASE_URL is not set: these URLs use the address you browse with, which the provider "
                 "probably cannot reach. Set PUBLIC_BASE_URL to the public https address of this app.")
    if not base.startswith("https://"):
        return _("PUBLIC_BASE_URL is not https: the provider needs a public https address to reach these URLs.")
    return None


def list_context() -> dict:
    """What templates/custom_webhooks/_list.html needs: the current sandbox's webhooks.

    The names are prefixed: the Webhooks page passes these beside its own."""
    sandbox = current_sandbox()
    rows = list(CustomWebhook.select(CustomWebhook, ApiCredential)
                .join(ApiCredential, peewee.JOIN.LEFT_OUTER)
                .where(CustomWebhook.sandbox == sandbox.id)
                .order_by(CustomWebhook.name_key))
    return {"custom_webhooks": rows, "custom_webhooks_sandbox": sandbox,
            "custom_webhooks_warning": reachability_warning(), "custom_webhook_url": receiver_url,
            "custom_webhook_types": TYPES}


def _get(webhook_id) -> CustomWebhook:
    return get_here(CustomWebhook, webhook_id, "custom_webhooks.index")


def _snapshot(custom_webhook: CustomWebhook) -> dict:
    """The audited fields; the secret only ever shows as changed (audit.record masks it)."""
    return {
        "name": custom_webhook.name,
        "type": custom_webhook.type,
        "credential": custom_webhook.credential.name if custom_webhook.credential_id else None,
        "sender_number": custom_webhook.sender_number or None,
        "payload": custom_webhook.payload,
        "hmac_secret": custom_webhook.hmac_secret,
        "hmac_header": custom_webhook.hmac_header,
    }


def _initial(custom_webhook: CustomWebhook) -> dict:
    return {"name": custom_webhook.name, "type": custom_webhook.type,
            "credential": str(custom_webhook.credential_id or ""), "sender_number": custom_webhook.sender_number,
            "payload": custom_webhook.payload, "hmac_header": custom_webhook.hmac_header,
            "version": str(custom_webhook.version)}


@bp.route("")
def index():
    """The current sandbox's custom webhooks."""
    return render("custom_webhooks/index.html", "custom_webhooks/_list.html", **list_context())


# --- Create and edit -----------------------------------------------------------------------------

def _form(sandbox, custom_webhook=None, **kwargs) -> CustomWebhookForm:
    return CustomWebhookForm(sandbox=sandbox, webhook_id=custom_webhook and custom_webhook.id,
                             secret_stored=bool(custom_webhook and custom_webhook.hmac_secret), **kwargs)


def _page(form, custom_webhook, status=200, field_name=None, **context):
    """The form's page, or for htmx the form, or after an inline check the one field."""
    template = "custom_webhooks/detail.html" if custom_webhook else "custom_webhooks/new.html"
    action_url = (url_for("custom_webhooks.detail", webhook_id=custom_webhook.id) if custom_webhook
                  else url_for("custom_webhooks.new"))
    fragment = "custom_webhooks/_one_field.html" if field_name else "custom_webhooks/_form.html"
    # A new type changes what the payload needs: its field follows, out of band.
    also = ("custom_webhooks/_payload_field.html",) if field_name == "type" else ()
    extra = {"sample": _sample(custom_webhook)} if custom_webhook and not field_name else {}
    return render(template, fragment, status=status, also=also, form=form, custom_webhook=custom_webhook,
                  action_url=action_url, field_name=field_name, sandbox=form.sandbox, custom_webhook_url=receiver_url,
                  custom_webhooks_warning=reachability_warning(), **extra, **context)


def _one_field(form, custom_webhook):
    """Check the form as it stands and answer with one field (nothing is saved)."""
    field_name = request.args["_field"]
    if field_name not in FIELDS:
        abort(400)
    form.validate()
    if field_name == "credential":
        # The sender number follows the credential: the one it has in this sandbox.
        form.sender_number.data = form.number_here() or ""
    for name in FIELDS:
        if name == field_name or (name == "payload" and field_name == "type" and form.payload.data):
            continue
        form[name].errors = []  # only the field the admin left speaks up
    if field_name not in ("payload", "type"):
        form.payload_warnings = []
    return _page(form, custom_webhook, status=422 if form[field_name].errors else 200, field_name=field_name)


def _values(form, custom_webhook=None) -> dict:
    inbound = form.type.data == "inbound"
    values = {
        "name": form.name.data,
        "name_key": form.name.data.casefold(),
        "type": form.type.data,
        "credential": form.chosen_credential.id if inbound else None,
        "sender_number": form.sender_number.data if inbound else "",
        "payload": form.payload.data,
        "hmac_header": form.hmac_header.data,
    }
    if form.hmac_secret.data:
        values["hmac_secret"] = form.hmac_secret.data
    elif custom_webhook is not None and form.remove_hmac_secret.data:
        values["hmac_secret"] = None
    return values


def _create(form, sandbox) -> CustomWebhook:
    with database.atomic():
        created = CustomWebhook.create(sandbox=sandbox.id, **_values(form))
        audit.record("create", created, audit.diff({}, _snapshot(created)), secret_fields=CustomWebhook.SECRET_FIELDS)
    return created


def _update(form, custom_webhook: CustomWebhook) -> CustomWebhook:
    """Write the form over the webhook, if nobody saved it since the form was opened."""
    before = _snapshot(custom_webhook)
    values = {getattr(CustomWebhook, name): value for name, value in _values(form, custom_webhook).items()}
    with database.atomic():
        update_unchanged(form, custom_webhook, values)
        saved = CustomWebhook.get_by_id(custom_webhook.id)
        audit.record("update", saved, audit.diff(before, _snapshot(saved)), secret_fields=CustomWebhook.SECRET_FIELDS)
    return saved


def _name_taken(form):
    # Someone took the name between the check and the write.
    form.name.errors = [*form.name.errors, _("A webhook with this name already exists.")]


def _saved(custom_webhook: CustomWebhook, message: str):
    """Open the webhook's page: its URL to give the provider, and any payload warning beside the field."""
    flash(message, "success")
    return redirect_to(url_for("custom_webhooks.detail", webhook_id=custom_webhook.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a webhook in the current sandbox; it opens on its page, with its URL to copy."""
    sandbox = current_sandbox()
    if request.method == "GET":
        return _page(_form(sandbox), None)
    form = _form(sandbox)
    if request.args.get("_field"):
        return _one_field(form, None)
    if form.validate_on_submit():
        try:
            created = _create(form, sandbox)
        except peewee.IntegrityError:
            _name_taken(form)
        else:
            return _saved(created, _("Webhook %(name)s created. Give the provider its URL.", name=created.name))
    return _page(form, None, status=422)


@bp.route("/<int:webhook_id>", methods=["GET", "POST"])
def detail(webhook_id):
    """The webhook's page: its URL, how to send it a sample, and the edit form."""
    custom_webhook = _get(webhook_id)
    sandbox = custom_webhook.sandbox
    if request.method == "GET":
        form = _form(sandbox, custom_webhook, data=_initial(custom_webhook))
        form.payload_warnings = check_payload(custom_webhook.payload, custom_webhook.type)[1]
        return _page(form, custom_webhook)
    form = _form(sandbox, custom_webhook)
    if request.args.get("_field"):
        return _one_field(form, custom_webhook)
    if form.validate_on_submit():
        try:
            saved = _update(form, custom_webhook)
        except EditConflict:
            current = saved_meanwhile(form, custom_webhook)
            return _page(form, current, status=409, conflict=_differences(form, current))
        except peewee.IntegrityError:
            _name_taken(form)
        else:
            return _saved(saved, _("Webhook %(name)s saved.", name=saved.name))
    return _page(form, custom_webhook, status=422)


def _differences(form, current: CustomWebhook) -> list[str]:
    """The labels of the fields whose saved value now differs from what the admin typed."""
    typed = {name: "" if value is None else str(value) for name, value in _values(form, current).items()}
    saved = _initial(current)
    return [str(form[name].label.text) for name in ("name", "type", "credential", "sender_number", "payload",
                                                    "hmac_header") if saved.get(name, "") != typed.get(name, "")]


# --- Send a sample --------------------------------------------------------------------------------

def _sample(custom_webhook: CustomWebhook) -> dict | None:
    """A curl command that posts the sample, filled in, to the webhook (never with the secret)."""
    values = {**SAMPLE_VALUES, "InboundNumber": custom_webhook.sender_number or "+14155550100"}
    try:
        body = payload_shape.fill(custom_webhook.payload, values)
    except json.JSONDecodeError:
        return None
    url = receiver_url(custom_webhook)
    if custom_webhook.hmac_secret:
        header = custom_webhook.hmac_header
        command = (f"BODY={shlex.quote(body)}\n"
                   "SIGNATURE=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$HMAC_SECRET\" | sed 's/^.* //')\n"
                   f"curl -i -X POST {shlex.quote(url)} \\\n"
                   "  -H 'Content-Type: application/json' \\\n"
                   f"  -H {shlex.quote(header + ': sha256=')}\"$SIGNATURE\" \\\n"
                   "  --data-binary \"$BODY\"")
    else:
        command = (f"curl -i -X POST {shlex.quote(url)} \\\n"
                   "  -H 'Content-Type: application/json' \\\n"
                   f"  --data-binary {shlex.quote(body)}")
    return {"command": command, "signed": bool(custom_webhook.hmac_secret)}


# --- Delete ---------------------------------------------------------------------------------------

@bp.route("/<int:webhook_id>/delete", methods=["GET", "POST"])
def delete(webhook_id):
    """GET asks first (no JavaScript); POST deletes, and for htmx the list updates in place."""
    custom_webhook = _get(webhook_id)
    if request.method == "GET":
        return render("custom_webhooks/delete.html", custom_webhook=custom_webhook)
    with database.atomic():
        audit.record("delete", custom_webhook, {name: [value, None] for name, value in
                                                _snapshot(custom_webhook).items() if value not in (None, "")},
                     secret_fields=CustomWebhook.SECRET_FIELDS)
        custom_webhook.delete_instance()
    flash(_("Webhook %(name)s deleted.", name=custom_webhook.name), "success")
    if is_htmx():
        return render("custom_webhooks/index.html", "custom_webhooks/_list.html", **list_context())
    return redirect_to(url_for("custom_webhooks.index"))


# --- The receiver ---------------------------------------------------------------------------------
# Its answers are for the provider's software, not for a person: plain English JSON.

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
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise Rejected(400, f"invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    if not isinstance(body, dict):
        raise Rejected(400, "the body is not a JSON object")
    shape = payload_shape.parse(custom_webhook.payload)
    wanted = {name: shape.paths[name] for name in REQUIRED[custom_webhook.type] if name in shape.paths}
    try:
        found = payload_shape.extract(wanted, body)
    except ShapeMismatch as mismatch:
        raise Rejected(400, str(mismatch)) from None
    values = {name: _text(value) for name, value in found.items()}
    for name, value in values.items():
        where = payload_shape.path_text(wanted[name])
        if name in NOT_EMPTY[custom_webhook.type] and not value.strip():
            raise Rejected(400, f"field {where} is empty")
        if len(value) > LONGEST.get(name, len(value)):
            raise Rejected(400, f"field {where} is longer than {LONGEST[name]} characters")
    return body, values


@receiver.route("/<key>", methods=["POST"])
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
        reply = keywords.respond(message)
    return jsonify(status="stored", reply=reply)


def _feedback(custom_webhook: CustomWebhook, body: dict, values: dict):
    with database.atomic():
        stored = record_status(
            sandbox=custom_webhook.sandbox_id, credential=custom_webhook.credential_id, source="custom",
            custom_webhook=custom_webhook.id, message_sid=values["clientReference"], status=values["status"],
            error_code=values["code"] or None, params=body, signed=True,
        )
    return jsonify(status="stored" if stored else "duplicate")
