"""Custom-provider credentials (vendor Custom), one implementation for every page that makes one: the
credentials page and the guided RCS step both preview, test, create and save through here."""
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.editing import check_unchanged
from wizard.core.models import ApiCredential, CredentialNumber, Sandbox, utcnow
from wizard.credentials.twilio import _write_edit, numbers_by_name, sandboxes_in_use
from wizard.providers import transport
from wizard.providers.custom.auth import AUTH_TYPES, FIELD_LABELS
from wizard.providers.custom.http import ProviderAnswer, send
from wizard.providers.custom.payload import check_template
from wizard.providers.custom.request import prepare, redact, redact_text
from wizard.providers.custom.settings import ProviderError, ProviderSettings
from wizard.providers.transport import Transport
from wizard.shell.fields import E164

# Where a new credential starts: a JSON payload with the three values the platform fills in.
EXAMPLE_TEMPLATE = '{\n  "from": "{{fromNumber}}",\n  "to": "{{toNumber}}",\n  "text": "{{message}}"\n}'


# The preview's sender until one is typed: Twilio's magic test number, never a real phone.
SAMPLE_NUMBER = "+15005550006"


# How much of a failing answer the credential keeps as the reason it is not verified.
MAX_REASON = 300


HEADER_ROW = re.compile(r"^headers-(\d+)-(name|value)$")


def stored_secrets(credential: ApiCredential | None) -> dict:
    """Secret name -> value as stored (decrypted); never rendered, only kept when left blank."""
    return ProviderSettings.from_credential(credential).auth_secrets if credential is not None else {}


def stored_urls(credential: ApiCredential | None) -> dict:
    """The URLs the stored secrets were saved for, by field name: a secret is kept only for its origin."""
    if credential is None:
        return {}
    settings = ProviderSettings.from_credential(credential)
    return {"provider_url": settings.provider_url, **settings.auth_settings}


def header_rows_changed(rows: list[dict], action: str, argument: str) -> list[dict]:
    """The header rows with an empty one added at the end ("add_header"), or row `argument` removed."""
    rows = list(rows)
    if action == "add_header":
        rows.append({"name": "", "value": ""})
    elif argument.isdigit() and int(argument) < len(rows):
        del rows[int(argument)]
    return rows


def with_header_rows_changed(formdata, action: str, argument: str) -> MultiDict:
    """The posted form with a header row added at the end, or row `argument` removed; rows renumbered."""
    rows, rest = {}, MultiDict()
    for key, value in formdata.items(multi=True):
        match = HEADER_ROW.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
        else:
            rest.add(key, value)
    ordered = header_rows_changed([rows[index] for index in sorted(rows)], action, argument)
    for index, row in enumerate(ordered):
        rest.add(f"headers-{index}-name", row.get("name", ""))
        rest.add(f"headers-{index}-value", row.get("value", ""))
    return rest


def preview(settings: ProviderSettings, sender: str, to: str, message: str) -> dict:
    """The request a send would make, secrets redacted, or why there is none; and the template's warnings."""
    check = check_template(settings.payload_template, settings.payload_format)
    try:
        prepared = prepare(settings, to, sender, message)
    except ProviderError as error:
        return {"preview": None, "preview_problem": error.message, "preview_warnings": check.warnings}
    return {"preview": redact(prepared, settings.secret_values()), "preview_problem": None,
            "preview_warnings": check.warnings}


def preview_request(form, sandboxes) -> dict:
    """The credentials page's preview, from what is typed now: sent from and to the sender number."""
    sender = _sender_in_form(form, sandboxes)
    return preview(form.provider_settings(), sender, sender, _("Test message"))


def run_test_request(settings: ProviderSettings, to: str, sender: str, message: str, transport: Transport) -> dict:
    """Send the real request through `transport`. The context to show it: the request sent, the
    provider's answer or the problem, every secret and every value sent because of one redacted in
    each (a provider may echo what it got; send() redacts what it hands back)."""
    secrets = settings.secret_values()
    context = {"sent_request": None, "answer": None, "test_problem": None}
    prepared = None
    try:
        prepared = prepare(settings, to, sender, message)
        context["sent_request"] = redact(prepared, secrets)  # until the request sent replaces it
        context["answer"] = send(settings, to, sender, message, transport=transport)
        context["sent_request"] = context["answer"].request
    except ProviderError as error:
        context["test_problem"] = redact_text(error.message, secrets, prepared)
    return context


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
    return state | numbers_by_name(numbers, sandboxes)


def _secrets_of(columns: dict) -> dict:
    return json.loads(columns.get("auth_secrets") or "{}")


def create_custom_credential(settings: ProviderSettings, numbers: dict[int, str], verified: bool) -> ApiCredential:
    """The credential and its sender numbers (sandbox id -> number), audited, in one transaction.
    Verified only when a test request of these very settings was answered 2xx."""
    columns = settings.to_columns()
    with database.atomic():
        credential = ApiCredential.create(**columns, verification_state="verified" if verified else "never",
                                          verified_at=utcnow() if verified else None)
        for sandbox_id, number in numbers.items():
            CredentialNumber.create(credential=credential, sandbox=sandbox_id, phone_number=number)
        sandboxes = Sandbox.select().order_by(Sandbox.name_key)
        changes = audit.diff({}, _custom_snapshot(credential, numbers, sandboxes))
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


def sender_number(credential: ApiCredential) -> str:
    """The credential's sender number in the current sandbox, else in any sandbox."""
    numbers = sorted(credential.numbers, key=lambda n: (n.sandbox_id != current_sandbox().id, n.sandbox_id))
    return numbers[0].phone_number if numbers else SAMPLE_NUMBER


def verification_outcome(answer: ProviderAnswer | None, problem: str | None) -> tuple[str, str | None]:
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
    sender = sender_number(credential)
    context = {"sender": sender,
               **run_test_request(settings, to, sender, message, transport.for_credential(credential))}
    state, reason = verification_outcome(context["answer"], context["test_problem"])
    # Not an edit (no new version), and only for the settings that were tested.
    ApiCredential.update(verification_state=state, verification_error=reason,
                         verified_at=utcnow() if state == "verified" else credential.verified_at).where(
        ApiCredential.id == credential.id, ApiCredential.version == credential.version).execute()
    context["outcome"], context["outcome_reason"] = state, reason
    return context


@dataclass(frozen=True)
class CustomFacts:
    host: str
    auth_type: str
    secrets: tuple[str, ...]  # the labels of the secrets it has stored (never their values)


def custom_facts(credential: ApiCredential) -> CustomFacts:
    host = urlsplit(credential.provider_url or "").hostname or ""
    kind = AUTH_TYPES.get(credential.auth_type or "")
    stored = json.loads(credential.auth_secrets or "{}")
    if kind is None:
        return CustomFacts(host, credential.auth_type or "", ())
    return CustomFacts(host, str(kind.label), tuple(str(FIELD_LABELS[name]) for name in kind.secrets
                                                    if stored.get(name)))


def _sender_in_form(form, sandboxes) -> str:
    """The number a preview sends from: the one typed for this sandbox, else any typed, else a sample."""
    here = current_sandbox().id
    typed = [(sandbox.id != here, form[f"number_{sandbox.id}"].data or "") for sandbox in sandboxes
             if form[f"use_{sandbox.id}"].data]
    return next((number for _elsewhere, number in sorted(typed) if E164.match(number)), SAMPLE_NUMBER)
