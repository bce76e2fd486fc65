"""API credentials: the list, edit, delete and Verify SMS connection (Twilio), and the
custom-provider credentials (vendor Custom) beside them: create, edit, Send test request."""
import dataclasses
import json
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import peewee
from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from wizard import audit, custom_provider, twilio_api, verification, webhooks
from wizard.custom_provider import AUTH_TYPES, FIELD_LABELS, REDACTED, ProviderError, ProviderSettings
from wizard.db import database
from wizard.editing import EditConflict, check_unchanged, saved_meanwhile, update_unchanged
from wizard.forms import (CUSTOM_FIELD_HELP, CUSTOM_SECRET_FIELDS, E164, CredentialNameForm, CustomCredentialForm,
                          MessagingServiceForm, TwilioAccountForm, custom_credential_data, e164_validator,
                          incoming_numbers_form, no_spaces, one_kind_of_newline)
from wizard.models import ApiCredential, ChannelConfiguration, CredentialNumber, CustomWebhook, Sandbox, utcnow
from wizard.sandboxes import current_sandbox
from wizard.twilio_api import TwilioError, TwilioUnreachable
from wizard.verification import CheckFailed, twilio_says
from wizard.web import is_htmx, redirect_to, render

bp = Blueprint("credentials", __name__, url_prefix="/credentials")

VENDORS = {"twilio": _l("Twilio"), "custom": _l("Custom")}


# --- Message segments ----------------------------------------------------------------

# GSM 03.38: the basic table, and the extension table whose characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """How a message body travels: its encoding, and into how many SMS segments it splits."""

    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    single: int  # what fits in one segment
    per_part: int  # what fits in each part of a split message
    doubled: tuple[str, ...]  # the GSM-7 extension characters in the body, which count twice


def count_segments(body: str) -> Segments:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        encoding, single, per_part = "GSM-7", 160, 153
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in body)
        doubled = tuple(sorted({c for c in body if c in GSM7_EXTENSION}))
    else:
        # One non-GSM character switches the whole message to UCS-2; emoji take two code units.
        encoding, single, per_part, doubled = "UCS-2", 70, 67, ()
        units = len(body.encode("utf-16-le")) // 2
    segments = 0 if units == 0 else 1 if units <= single else math.ceil(units / per_part)
    return Segments(len(body), encoding, units, segments, single, per_part, doubled)


# --- Forms -----------------------------------------------------------------------------

def credential_form_class(sandboxes):
    """The edit form: the guided flow's parts together, plus the version it was opened at."""

    class CredentialForm(CredentialNameForm, TwilioAccountForm, MessagingServiceForm,
                         incoming_numbers_form(sandboxes)):
        version = HiddenField()

    return CredentialForm


class SmsTestForm(FlaskForm):
    number = StringField(
        _l("Number"),
        filters=[no_spaces],
        validators=[DataRequired(_l("Enter the number to send the test message to.")), e164_validator],
    )
    message = TextAreaField(
        _l("Message"),
        filters=[one_kind_of_newline],
        validators=[DataRequired(_l("Enter the message to send.")),
                    Length(max=1600, message=_l("A message has at most 1600 characters."))],
    )


# --- Reading ---------------------------------------------------------------------------

def _sandboxes() -> list[Sandbox]:
    return list(Sandbox.select().order_by(Sandbox.name_key))


def _get(credential_id) -> ApiCredential:
    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id)
    if credential is None:
        abort(404)
    return credential


def _get_twilio(credential_id) -> ApiCredential:
    credential = _get(credential_id)
    if credential.vendor != "twilio":
        abort(404)
    return credential


def numbers_of(credential_ids) -> dict[int, list[CredentialNumber]]:
    """Each credential's numbers with their sandboxes, sandboxes by name."""
    found = {}
    query = (CredentialNumber.select(CredentialNumber, Sandbox).join(Sandbox)
             .where(CredentialNumber.credential.in_(credential_ids)).order_by(Sandbox.name_key))
    for number in query:
        found.setdefault(number.credential_id, []).append(number)
    return found


def configurations_using(credential_ids) -> dict[int, list[ChannelConfiguration]]:
    found = {}
    query = (ChannelConfiguration.select().where(ChannelConfiguration.credential.in_(credential_ids))
             .order_by(ChannelConfiguration.name_key))
    for configuration in query:
        found.setdefault(configuration.credential_id, []).append(configuration)
    return found


def _links() -> dict:
    """Links to pages other parts of the app provide, once they exist."""
    views = current_app.view_functions
    return {"can_create": "guided.start" in views, "channel_links": "channels.detail" in views}


@bp.route("")
def index():
    """The credentials that have a number in the current sandbox."""
    sandbox = current_sandbox()
    credentials = list(
        ApiCredential.select().join(CredentialNumber)
        .where(CredentialNumber.sandbox == sandbox).order_by(ApiCredential.name_key).distinct()
    )
    ids = [c.id for c in credentials]
    return render("credentials/index.html", sandbox=sandbox, credentials=credentials, numbers=numbers_of(ids),
                  used_by=configurations_using(ids), vendors=VENDORS, **_links())


# --- Edit --------------------------------------------------------------------------------

def _snapshot(credential: ApiCredential, numbers: dict[int, str], sandboxes) -> dict:
    """The audited fields, a number for every sandbox (None where unused); never a secret."""
    state = {
        "name": credential.name,
        "account_sid": credential.account_sid,
        "messaging_service_sid": credential.messaging_service_sid,
        "verification_state": credential.verification_state,
    }
    for sandbox in sandboxes:
        state[f"number ({sandbox.name})"] = numbers.get(sandbox.id)
    return state


def _initial(credential: ApiCredential, sandboxes) -> dict:
    data = {"name": credential.name, "account_sid": credential.account_sid,
            "messaging_service_sid": credential.messaging_service_sid, "version": str(credential.version)}
    numbers = credential.numbers_by_sandbox()
    for sandbox in sandboxes:
        data[f"use_{sandbox.id}"] = sandbox.id in numbers
        data[f"number_{sandbox.id}"] = numbers.get(sandbox.id, "")
    return data


@dataclass
class TwilioAgrees:
    account: twilio_api.Account | None  # as Twilio described it, when the account was asked about
    warnings: list[str]
    number_errors: dict[int, str]  # sandbox id -> why its number cannot be used


def check_with_twilio(form, credential: ApiCredential) -> TwilioAgrees:
    """Ask Twilio about whatever changed that it must agree with; raises CheckFailed.

    A changed Account SID or Messaging Service, or an Auth Token typed in, is verified
    again, and so is every number then; otherwise only the numbers that changed are checked.
    """
    token = form.auth_token.data or credential.auth_token
    account_changed = (form.account_sid.data != credential.account_sid
                       or bool(form.auth_token.data)
                       or form.messaging_service_sid.data != credential.messaging_service_sid)
    stored = credential.numbers_by_sandbox()
    to_check = {sandbox_id: number for sandbox_id, number in form.chosen().items()
                if account_changed or stored.get(sandbox_id) != number}
    agrees = TwilioAgrees(None, [], {})
    if account_changed:
        checked = verification.check_account(form.account_sid.data, token)
        verification.check_messaging_service(form.account_sid.data, token, form.messaging_service_sid.data)
        agrees.account = checked.account
        agrees.warnings += [checked.warning] if checked.warning else []
    if to_check:
        available = verification.available_numbers(form.account_sid.data, token, form.messaging_service_sid.data)
        for sandbox_id, number in to_check.items():
            error, warning = available.problem_with(number)
            if error:
                agrees.number_errors[sandbox_id] = error
            elif warning:
                agrees.warnings.append(warning)
    return agrees


def sandboxes_in_use(form, credential: ApiCredential, sandboxes) -> dict[int, str]:
    """Sandbox id -> why it stays chosen: its channel configurations send through this credential."""
    chosen, refusals = form.chosen(), {}
    for sandbox in sandboxes:
        if sandbox.id in chosen:
            continue
        users = [c.name for c in ChannelConfiguration.select().where(
            ChannelConfiguration.credential == credential.id, ChannelConfiguration.sandbox == sandbox.id
        ).order_by(ChannelConfiguration.name_key)]
        if users:
            refusals[sandbox.id] = ngettext(
                "Channel configuration %(names)s sends through this credential in sandbox %(sandbox)s: "
                "keep the sandbox, or change or delete that configuration first.",
                "Channel configurations %(names)s send through this credential in sandbox %(sandbox)s: "
                "keep the sandbox, or change or delete those configurations first.",
                len(users), names=", ".join(users), sandbox=sandbox.name)
    return refusals


def save_credential(form, credential: ApiCredential, sandboxes, account: twilio_api.Account | None) -> list[str]:
    """Write the form over the credential, if nobody saved it since the form was opened.

    `account` is given when Twilio has just verified the credential. Returns what the admin
    should be told besides "saved"; raises EditConflict.
    """
    stored_numbers = credential.numbers_by_sandbox()
    before = _snapshot(credential, stored_numbers, sandboxes)
    new_token = form.auth_token.data or None
    token_changed = new_token is not None and new_token != credential.auth_token
    values = {
        ApiCredential.name: form.name.data,
        ApiCredential.name_key: form.name.data.casefold(),
        ApiCredential.account_sid: form.account_sid.data,
        ApiCredential.messaging_service_sid: form.messaging_service_sid.data,
    }
    if token_changed:
        values.update({ApiCredential.auth_token: new_token, ApiCredential.auth_token_last4: new_token[-4:]})
    if account is not None:
        values.update({
            ApiCredential.verification_state: "verified", ApiCredential.verified_at: utcnow(),
            ApiCredential.verification_error: None,
            ApiCredential.account_name: account.friendly_name, ApiCredential.account_type: account.type,
        })
    return _write_edit(credential, form, values, stored_numbers, before, lambda saved, chosen: _snapshot(
        saved, chosen, sandboxes), {"auth_token": token_changed})


def _write_edit(credential, form, values, stored_numbers, before, snapshot, secrets_changed: dict) -> list[str]:
    """One transaction for an edit, whatever the vendor: the credential (only if nobody saved it
    since the form was opened), its number in each sandbox, the audit entry. Returns notes."""
    chosen, notes = form.chosen(), []
    with database.atomic():
        update_unchanged(form, credential, values)
        CredentialNumber.delete().where(CredentialNumber.credential == credential.id,
                                        CredentialNumber.sandbox.not_in(list(chosen))).execute()
        for sandbox_id, number in chosen.items():
            if sandbox_id not in stored_numbers:
                CredentialNumber.create(credential=credential.id, sandbox=sandbox_id, phone_number=number)
            elif stored_numbers[sandbox_id] != number:
                CredentialNumber.update(phone_number=number).where(
                    CredentialNumber.credential == credential.id, CredentialNumber.sandbox == sandbox_id).execute()
                notes += _follow_new_number(credential, sandbox_id, number)
        saved = ApiCredential.get_by_id(credential.id)
        changes = audit.diff(before, snapshot(saved, chosen))
        changes.update({field: audit.SECRET_MARK for field, changed in secrets_changed.items() if changed})
        audit.record("update", saved, changes, secret_fields=ApiCredential.SECRET_FIELDS)
    return notes


def _follow_new_number(credential, sandbox_id, number) -> list[str]:
    """A sandbox's channel configurations send from the credential's number there: they follow it."""
    notes = []
    for configuration in ChannelConfiguration.select().where(
            ChannelConfiguration.credential == credential.id, ChannelConfiguration.sandbox == sandbox_id):
        audit.record("update", configuration, {"sender_number": [configuration.sender_number, number]})
        ChannelConfiguration.update(sender_number=number, version=ChannelConfiguration.version + 1,
                                    updated_at=utcnow()).where(ChannelConfiguration.id == configuration.id).execute()
        notes.append(_("Channel configuration %(name)s now sends from %(number)s.",
                       name=configuration.name, number=number))
    return notes


def edit_credential(form, credential: ApiCredential, sandboxes) -> list[str] | None:
    """Save: refuse what must not change, ask Twilio, then write.

    Returns what the admin should also be told once saved; None when refused, with the
    reasons on the form's fields. Raises EditConflict, and CheckFailed for Twilio's no.
    """
    check_unchanged(form, credential)  # before asking Twilio anything
    in_use = sandboxes_in_use(form, credential, sandboxes)
    for sandbox_id, refusal in in_use.items():
        form[f"use_{sandbox_id}"].errors.append(refusal)
    if in_use:
        return None
    agrees = check_with_twilio(form, credential)
    for sandbox_id, error in agrees.number_errors.items():
        form[f"number_{sandbox_id}"].errors.append(error)
    if agrees.number_errors:
        return None
    return agrees.warnings + save_credential(form, credential, sandboxes, agrees.account)


CHECKED_FIELDS = ("name", "account_sid", "messaging_service_sid")


@bp.route("/<int:credential_id>", methods=["GET", "POST"])
def detail(credential_id):
    """The credential's page: the edit form. `?_field=` checks one field as the admin leaves it.
    A custom provider's credential has a form of its own (custom_credential_page)."""
    credential = _get(credential_id)
    if credential.vendor == "custom":
        return custom_credential_page(credential)
    sandboxes = _sandboxes()
    form = credential_form_class(sandboxes)(
        credential_id=credential.id, token_stored=True,
        data=None if request.method == "POST" else _initial(credential, sandboxes))
    context = {"credential": credential, "sandboxes": sandboxes, "form": form,
               "token_typed": bool(request.form.get("auth_token"))}
    field_name = request.args.get("_field")
    if request.method == "POST" and field_name:
        if field_name not in CHECKED_FIELDS and field_name not in {f"number_{s.id}" for s in sandboxes}:
            abort(400)
        form.validate()  # only this field's messages are shown; nothing is asked of Twilio or saved
        return render_template("credentials/_one_field.html", name=field_name, **context), (
            422 if form[field_name].errors else 200)
    conflict, retry = None, False
    if form.validate_on_submit():
        try:
            notes = edit_credential(form, credential, sandboxes)
            if notes is not None:
                flash(_("API credential %(name)s saved.", name=form.name.data), "success")
                for note in notes:
                    flash(note, "warning")
                return redirect_to(url_for("credentials.index"))
        except CheckFailed as failure:
            if failure.field in form:
                form[failure.field].errors.append(failure.message)
            else:
                form.form_errors.append(failure.message)
                retry = failure.retry
        except peewee.IntegrityError:
            # Another credential took the name between the check and the save.
            form.name.errors.append(_("An API credential with this name already exists."))
        except EditConflict:
            conflict = saved_meanwhile(form, credential)
    status = 409 if conflict else 422 if form.errors else 200
    return render("credentials/detail.html", "credentials/_form.html", status=status, conflict=conflict,
                  conflict_numbers=numbers_of([credential.id]).get(credential.id, []) if conflict else [],
                  retry=retry, used_by=configurations_using([credential.id]).get(credential.id, []),
                  vendors=VENDORS, **context, **_links())


# --- Delete ------------------------------------------------------------------------------

def refusal_to_delete(credential: ApiCredential) -> str | None:
    users = [c.name for c in configurations_using([credential.id]).get(credential.id, [])]
    if users:
        return ngettext(
            "API credential %(name)s is used by channel configuration %(users)s and cannot be deleted. "
            "Delete that configuration or give it another credential first.",
            "API credential %(name)s is used by channel configurations %(users)s and cannot be deleted. "
            "Delete those configurations or give them another credential first.",
            len(users), name=credential.name, users=", ".join(users))
    # A custom provider's webhooks name the credential they belong to; the database keeps it while they do.
    hooks = [w.name for w in CustomWebhook.select().where(CustomWebhook.credential == credential.id)
             .order_by(CustomWebhook.name_key)]
    if hooks:
        return ngettext(
            "API credential %(name)s is used by webhook %(users)s and cannot be deleted. "
            "Delete that webhook or give it another credential first.",
            "API credential %(name)s is used by webhooks %(users)s and cannot be deleted. "
            "Delete those webhooks or give them another credential first.",
            len(hooks), name=credential.name, users=", ".join(hooks))
    return None


def _deleted_fields(credential: ApiCredential) -> dict:
    """What the audit keeps of a deleted credential: its plain fields, never a secret."""
    if credential.vendor == "custom":
        state = _custom_snapshot(credential, {}, [])
    else:
        state = {"name": credential.name, "account_sid": credential.account_sid,
                 "messaging_service_sid": credential.messaging_service_sid}
    return {name: [value, None] for name, value in state.items() if value not in (None, "", [], {})}


@bp.route("/<int:credential_id>/delete", methods=["GET", "POST"])
def delete(credential_id):
    """GET asks first (no JavaScript); POST deletes, and for htmx the row goes away in place."""
    credential = _get(credential_id)
    refusal = refusal_to_delete(credential)
    if request.method == "GET":
        return render("credentials/delete.html", credential=credential, refusal=refusal)
    if refusal is None:
        try:
            with database.atomic():
                audit.record("delete", credential, _deleted_fields(credential),
                             secret_fields=ApiCredential.SECRET_FIELDS)
                CredentialNumber.delete().where(CredentialNumber.credential == credential.id).execute()
                credential.delete_instance()
        except peewee.IntegrityError:
            # A channel configuration started using it between the check and the delete.
            refusal = refusal_to_delete(credential)
    if refusal:
        flash(refusal, "error")
    else:
        flash(_("API credential %(name)s deleted.", name=credential.name), "success")
    if not is_htmx():
        return redirect_to(url_for("credentials.index"))
    if refusal:
        ids = [credential.id]
        return render("credentials/index.html", "credentials/_row.html", status=409, credential=credential,
                      numbers=numbers_of(ids), used_by=configurations_using(ids), vendors=VENDORS, **_links())
    return render("credentials/index.html", "credentials/_no_row.html")


# --- Verify SMS connection -------------------------------------------------------------

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
# Twilio's codes that are about the recipient, and about the body: shown beside that field.
RECIPIENT_ERRORS = {21211, 21265, 21401, 21407, 21408, 21421, 21604, 21608, 21610, 21612, 21614, 21635}
BODY_ERRORS = {21602, 21617}

MESSAGE_STATUS = {
    "accepted": _l("accepted: Twilio is choosing a sender from the Messaging Service"),
    "scheduled": _l("scheduled"),
    "queued": _l("queued: waiting to be sent"),
    "sending": _l("sending"),
    "sent": _l("sent: the carrier has it"),
    "delivered": _l("delivered to the phone"),
    "undelivered": _l("undelivered: the carrier could not deliver it"),
    "failed": _l("failed: Twilio could not send it"),
    "read": _l("read"),
    "canceled": _l("canceled"),
    "partially_delivered": _l("partially delivered"),
    "receiving": _l("receiving"),
    "received": _l("received"),
}


def status_callback_url(credential: ApiCredential) -> str | None:
    """Where Twilio reports delivery: the status receiver of the credential's number in this sandbox."""
    numbers = sorted(credential.numbers, key=lambda n: n.sandbox_id != current_sandbox().id)
    return webhooks.status_callback_url(numbers[0]) if numbers else None


def _client(credential: ApiCredential):
    return verification.client(credential.account_sid, credential.auth_token)


def _verify_page(credential, form, status=200, **context):
    return render("credentials/verify.html", "credentials/_verify_section.html", status=status,
                  credential=credential, form=form, segments=count_segments(form.message.data or ""),
                  statuses=MESSAGE_STATUS, **context)


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
        sent = twilio_api.send_message(_client(credential), form.number.data, credential.messaging_service_sid,
                                       form.message.data, status_callback=status_callback_url(credential))
    except TwilioError as error:
        retry = isinstance(error, TwilioUnreachable)
        if retry:
            form.form_errors.append(_("%(reason)s. Your input is kept; try again.", reason=error.message))
        elif error.code in RECIPIENT_ERRORS:
            form.number.errors.append(twilio_says(error))
        elif error.code in BODY_ERRORS:
            form.message.errors.append(twilio_says(error))
        else:
            form.form_errors.append(twilio_says(error))
        return _verify_page(credential, form, status=422, retry=retry)
    if not is_htmx():
        return redirect_to(url_for("credentials.message", credential_id=credential.id, message_sid=sent.sid))
    return _verify_page(credential, form, sent=sent)


@bp.route("/<int:credential_id>/messages/<message_sid>")
def message(credential_id, message_sid):
    """A test message as Twilio knows it now: its status, fetched again on every request."""
    credential = _get_twilio(credential_id)
    if not MESSAGE_SID.match(message_sid):
        abort(404)
    sent, error = None, None
    try:
        sent = twilio_api.fetch_message(_client(credential), message_sid)
    except TwilioUnreachable as unreachable:
        error = _("%(reason)s. Try Refresh again in a moment.", reason=unreachable.message)
    except TwilioError as failure:
        error = twilio_says(failure)
    return render("credentials/verify.html", "credentials/_message.html", credential=credential,
                  form=SmsTestForm(formdata=None), segments=count_segments(""), statuses=MESSAGE_STATUS,
                  sent=sent, message_sid=message_sid, message_error=error)


# --- Custom provider credentials ----------------------------------------------------------
# A credential with vendor Custom is a provider's HTTP API (wizard/custom_provider.py): its
# URL, auth type, headers and payload template, and a sender number per sandbox. The RCS flow
# creates them too; here they are created outside it, edited, and verified by a test request.

# Where a new credential starts: a JSON payload with the three values the platform fills in.
EXAMPLE_TEMPLATE = '{\n  "from": "{{fromNumber}}",\n  "to": "{{toNumber}}",\n  "text": "{{message}}"\n}'
# The preview's sender until one is typed: Twilio's magic test number, never a real phone.
SAMPLE_NUMBER = "+15005550006"
# How much of a failing answer the credential keeps as the reason it is not verified.
MAX_REASON = 300
HEADER_ROW = re.compile(r"^headers-(\d+)-(name|value)$")


def custom_form_class(sandboxes):
    """The custom credential form (the RCS step's) with a sender number per sandbox and the version."""

    class CustomCredentialPageForm(CustomCredentialForm, incoming_numbers_form(sandboxes)):
        version = HiddenField()

    return CustomCredentialPageForm


def stored_secrets(credential: ApiCredential | None) -> dict:
    """Secret name -> value as stored (decrypted); never rendered, only kept when left blank."""
    return ProviderSettings.from_credential(credential).auth_secrets if credential is not None else {}


def _custom_form(sandboxes, credential: ApiCredential | None, **kwargs):
    form = custom_form_class(sandboxes)(credential_id=credential.id if credential else None,
                                        stored_secrets=stored_secrets(credential), **kwargs)
    for sandbox in sandboxes:
        # A custom provider sends from this number; "incoming" is the Twilio credential's word.
        form[f"number_{sandbox.id}"].label.text = _("Sender number for %(name)s", name=sandbox.name)
    return form


def _custom_initial(credential: ApiCredential, sandboxes) -> dict:
    data = custom_credential_data(ProviderSettings.from_credential(credential))
    data["version"] = str(credential.version)
    numbers = credential.numbers_by_sandbox()
    for sandbox in sandboxes:
        data[f"use_{sandbox.id}"] = sandbox.id in numbers
        data[f"number_{sandbox.id}"] = numbers.get(sandbox.id, "")
    return data


def _new_custom_data(name: str) -> dict:
    """A new credential: the name typed in the SMS flow's vendor step, if any, used in this sandbox."""
    return {"name": name, "payload_template": EXAMPLE_TEMPLATE, f"use_{current_sandbox().id}": True}


def with_header_rows_changed(formdata, action: str, argument: str) -> MultiDict:
    """The posted form with a header row added at the end, or row `argument` removed; rows renumbered."""
    rows, rest = {}, MultiDict()
    for key, value in formdata.items(multi=True):
        match = HEADER_ROW.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
        else:
            rest.add(key, value)
    ordered = [rows[index] for index in sorted(rows)]
    if action == "add_header":
        ordered.append({"name": "", "value": ""})
    elif argument.isdigit() and int(argument) < len(ordered):
        del ordered[int(argument)]
    for index, row in enumerate(ordered):
        rest.add(f"headers-{index}-name", row.get("name", ""))
        rest.add(f"headers-{index}-value", row.get("value", ""))
    return rest


def _sender_in_form(form, sandboxes) -> str:
    """The number a preview sends from: the one typed for this sandbox, else any typed, else a sample."""
    here = current_sandbox().id
    typed = [(sandbox.id != here, form[f"number_{sandbox.id}"].data or "") for sandbox in sandboxes
             if form[f"use_{sandbox.id}"].data]
    return next((number for _elsewhere, number in sorted(typed) if E164.match(number)), SAMPLE_NUMBER)


def preview_request(form, sandboxes) -> dict:
    """The request a send would make from what is typed now, secrets redacted; or why there is none."""
    settings = form.provider_settings()
    sender = _sender_in_form(form, sandboxes)
    check = custom_provider.check_template(settings.payload_template, settings.payload_format)
    try:
        prepared = custom_provider.prepare(settings, sender, sender, _("Test message"))
    except ProviderError as error:
        return {"preview": None, "preview_problem": error.message, "preview_warnings": check.warnings}
    return {"preview": custom_provider.redact(prepared, settings.secret_values()), "preview_problem": None,
            "preview_warnings": check.warnings}


def _custom_snapshot(credential: ApiCredential, numbers: dict[int, str], sandboxes) -> dict:
    """The audited fields, a sender number for every sandbox (None where unused); never a secret."""
    state = {
        "name": credential.name,
        "provider_name": credential.provider_name,
        "provider_url": credential.provider_url,
        "auth_type": credential.auth_type,
        "auth_settings": json.loads(credential.auth_settings or "{}"),
        "headers": json.loads(credential.headers or "[]"),
        "payload_format": credential.payload_format,
        "payload_template": credential.payload_template,
        "verification_state": credential.verification_state,
    }
    for sandbox in sandboxes:
        state[f"number ({sandbox.name})"] = numbers.get(sandbox.id)
    return state


def _secrets_of(columns: dict) -> dict:
    return json.loads(columns.get("auth_secrets") or "{}")


def create_custom_credential(form, sandboxes) -> ApiCredential:
    """The credential and its sender numbers, audited, in one transaction. Never verified yet:
    only a test request the provider answers 2xx verifies it."""
    columns = form.provider_settings().to_columns()
    chosen = form.chosen()
    with database.atomic():
        credential = ApiCredential.create(**columns, verification_state="never")
        for sandbox_id, number in chosen.items():
            CredentialNumber.create(credential=credential, sandbox=sandbox_id, phone_number=number)
        changes = audit.diff({}, _custom_snapshot(credential, chosen, sandboxes))
        if _secrets_of(columns):
            changes["auth_secrets"] = [None, "set"]
        audit.record("create", credential, changes, secret_fields=ApiCredential.SECRET_FIELDS)
    return credential


def save_custom_credential(form, credential: ApiCredential, sandboxes) -> list[str]:
    """Write the form over the credential, if nobody saved it since the form was opened; blank
    secrets keep the stored ones. Another URL, auth or secret must be verified again. Returns
    what the admin should be told besides "saved"; raises EditConflict."""
    stored_numbers = credential.numbers_by_sandbox()
    before = _custom_snapshot(credential, stored_numbers, sandboxes)
    columns = form.provider_settings().to_columns()
    secrets_changed = _secrets_of(columns) != json.loads(credential.auth_secrets or "{}")
    reverify = (secrets_changed or columns["provider_url"] != credential.provider_url
                or columns["auth_type"] != credential.auth_type
                or json.loads(columns["auth_settings"]) != json.loads(credential.auth_settings or "{}"))
    values = {getattr(ApiCredential, name): value for name, value in columns.items()}
    notes = []
    if reverify:
        values.update({ApiCredential.verification_state: "never", ApiCredential.verified_at: None,
                       ApiCredential.verification_error: None,
                       # A token fetched with the old settings is of no use to the new ones.
                       ApiCredential.oauth_token: None, ApiCredential.oauth_expires_at: None})
        if credential.verification_state != "never":
            notes.append(_("The provider URL, auth or a secret changed: send a test request to verify API "
                           "credential %(name)s again.", name=form.name.data))
    return notes + _write_edit(credential, form, values, stored_numbers, before, lambda saved, chosen: _custom_snapshot(
        saved, chosen, sandboxes), {"auth_secrets": secrets_changed})


def edit_custom_credential(form, credential: ApiCredential, sandboxes) -> list[str] | None:
    """Save, unless a sandbox still in use was unticked (None, the reasons on its field).
    Raises EditConflict."""
    check_unchanged(form, credential)
    in_use = sandboxes_in_use(form, credential, sandboxes)
    for sandbox_id, refusal in in_use.items():
        form[f"use_{sandbox_id}"].errors.append(refusal)
    if in_use:
        return None
    return save_custom_credential(form, credential, sandboxes)


def _custom_page(form, credential: ApiCredential | None, sandboxes, status=200,
                 fragment="credentials/custom/_form.html", preview=True, **context):
    action_url = (url_for("credentials.detail", credential_id=credential.id) if credential
                  else url_for("credentials.new_custom"))
    if preview:
        context.update(preview_request(form, sandboxes))
    used_by = configurations_using([credential.id]).get(credential.id, []) if credential else []
    return render("credentials/custom/detail.html" if credential else "credentials/custom/new.html", fragment,
                  status=status, form=form, credential=credential, sandboxes=sandboxes, step_url=action_url,
                  CUSTOM_FIELD_HELP=CUSTOM_FIELD_HELP, used_by=used_by, vendors=VENDORS,
                  # Typed secrets are never sent back: their fields ask for them again.
                  typed_secrets=[name for name in CUSTOM_SECRET_FIELDS if request.form.get(name)],
                  **context, **_links())


def custom_credential_page(credential: ApiCredential | None):
    """Create (credential None) or edit a custom credential. Besides Save, a POST's `action` is one
    of the shared field template's buttons: auth_fields (the auth type changed), add_header,
    remove_header:N, preview; `_field` checks one field as the admin leaves it (htmx)."""
    sandboxes = _sandboxes()
    if request.method == "GET":
        data = (_custom_initial(credential, sandboxes) if credential
                else _new_custom_data(request.args.get("name", "")))
        return _custom_page(_custom_form(sandboxes, credential, data=data), credential, sandboxes,
                            preview=credential is not None)
    action, _colon, argument = request.form.get("action", "save").partition(":")
    formdata = request.form
    if action in ("add_header", "remove_header"):
        formdata = with_header_rows_changed(request.form, action, argument)
    form = _custom_form(sandboxes, credential, formdata=formdata)
    field_name = request.form.get("_field")
    if is_htmx() and field_name and field_name in form:
        form.validate()  # only this field's messages are shown; nothing is saved
        return render_template("_field_fragment.html", f=form[field_name]), 422 if form[field_name].errors else 200
    if action == "preview":
        return _custom_page(form, credential, sandboxes, fragment="credentials/custom/_preview.html")
    if action in ("auth_fields", "add_header", "remove_header"):
        return _custom_page(form, credential, sandboxes)  # htmx takes just the part it swaps
    conflict = None
    if form.validate_on_submit():
        try:
            if credential is None:
                created = create_custom_credential(form, sandboxes)
                flash(_("API credential %(name)s created. Send a test request to verify it.", name=created.name),
                      "success")
                notes = []
            else:
                notes = edit_custom_credential(form, credential, sandboxes)
                if notes is not None:
                    flash(_("API credential %(name)s saved.", name=form.name.data), "success")
            if notes is not None:
                for note in [*form.warnings, *notes]:
                    flash(note, "warning")
                return redirect_to(url_for("credentials.index"))
        except peewee.IntegrityError:
            # Another credential took the name between the check and the save.
            form.name.errors.append(_("An API credential with this name already exists."))
        except EditConflict:
            conflict = saved_meanwhile(form, credential)
    return _custom_page(form, credential, sandboxes, status=409 if conflict else 422, conflict=conflict,
                        conflict_numbers=numbers_of([credential.id]).get(credential.id, []) if conflict else [])


@bp.route("/custom/new", methods=["GET", "POST"])
def new_custom():
    """A new credential with vendor Custom; `?name=` fills in the name (the SMS flow's vendor choice)."""
    return custom_credential_page(None)


# --- Send test request -----------------------------------------------------------------

def _get_custom(credential_id) -> ApiCredential:
    credential = _get(credential_id)
    if credential.vendor != "custom":
        abort(404)
    return credential


def sender_number(credential: ApiCredential) -> str:
    """The credential's sender number in the current sandbox, else in any sandbox."""
    numbers = sorted(credential.numbers, key=lambda n: (n.sandbox_id != current_sandbox().id, n.sandbox_id))
    return numbers[0].phone_number if numbers else SAMPLE_NUMBER


def _hidden(text: str, secrets) -> str:
    """A provider may echo what it was sent: its answer is shown with the secrets hidden."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def verification_outcome(answer: custom_provider.ProviderAnswer | None, problem: str | None) -> tuple[str, str | None]:
    """(verification state, reason): a 2xx answer verifies the credential, anything else fails it."""
    if answer is not None and answer.ok:
        return "verified", None
    if answer is not None:
        body = " ".join(answer.body.split())
        reason = _("The provider answered %(status)s %(reason)s: %(body)s", status=answer.status,
                   reason=answer.reason, body=body) if body else _(
            "The provider answered %(status)s %(reason)s.", status=answer.status, reason=answer.reason)
        return "failed", reason[:MAX_REASON]
    return "failed", (problem or "")[:MAX_REASON]


def send_test_request(credential: ApiCredential, to: str, message: str) -> dict:
    """Send the real request and record the outcome on the credential; the context to show it."""
    settings = ProviderSettings.from_credential(credential)  # with the row's OAuth token cache
    secrets = settings.secret_values()
    sender = sender_number(credential)
    context = {"sender": sender, "sent_request": None, "answer": None, "test_problem": None}
    try:
        prepared = custom_provider.prepare(settings, to, sender, message)
        context["sent_request"] = custom_provider.redact(prepared, secrets)
        answer = custom_provider.send(settings, to, sender, message)
    except ProviderError as error:
        context["test_problem"] = _hidden(error.message, secrets)
    else:
        context["answer"] = dataclasses.replace(
            answer, body=_hidden(answer.body, secrets),
            headers=[(name, _hidden(value, secrets)) for name, value in answer.headers])
    state, reason = verification_outcome(context["answer"], context["test_problem"])
    # Not an edit (no new version), and only for the settings that were tested.
    ApiCredential.update(verification_state=state, verification_error=reason,
                         verified_at=utcnow() if state == "verified" else credential.verified_at).where(
        ApiCredential.id == credential.id, ApiCredential.version == credential.version).execute()
    context["outcome"], context["outcome_reason"] = state, reason
    return context


def _test_page(credential, form, status=200, **context):
    context.setdefault("sender", sender_number(credential))
    return render("credentials/custom/test.html", "credentials/custom/_test_section.html", status=status,
                  credential=credential, form=form, **context)


@bp.route("/<int:credential_id>/test", methods=["GET", "POST"])
def send_test(credential_id):
    """Send test request: a real request to the provider with the Number and Message typed; its
    answer is shown, never stored (reloading would send it again), and a 2xx verifies the credential."""
    credential = _get_custom(credential_id)
    form = SmsTestForm()
    if not form.validate_on_submit():
        return _test_page(credential, form, status=422 if form.errors else 200)
    context = send_test_request(credential, form.number.data, form.message.data)
    return _test_page(ApiCredential.get_by_id(credential.id), form, **context)


# --- The list's words for a custom credential ----------------------------------------------

@dataclass(frozen=True)
class CustomFacts:
    host: str
    auth_type: str
    secrets: tuple[str, ...]  # the labels of the secrets it has stored (never their values)


def custom_facts(credential: ApiCredential) -> CustomFacts:
    host = urlsplit(credential.provider_url or "").hostname or ""
    kind = AUTH_TYPES.get(credential.auth_type or "", {"label": credential.auth_type or "", "secrets": ()})
    stored = json.loads(credential.auth_secrets or "{}")
    return CustomFacts(host, str(kind["label"]), tuple(str(FIELD_LABELS[name]) for name in kind["secrets"]
                                                       if stored.get(name)))


@bp.context_processor
def list_helpers():
    return {"custom_facts": custom_facts}
