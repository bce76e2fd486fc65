"""Custom-provider credentials (vendor Custom), one implementation for every page that makes one: the
credentials page and the guided RCS step both preview, test, create and save through here."""
import dataclasses
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
from wizard.core.models import ApiCredential, CredentialNumber, utcnow
from wizard.credentials.twilio import _write_edit, sandboxes_in_use
from wizard.providers import transport
from wizard.providers.custom.http import ProviderAnswer, send
from wizard.providers.custom.payload import check_template
from wizard.providers.custom.request import prepare, redact
from wizard.providers.custom.settings import (
    AUTH_TYPES,
    FIELD_LABELS,
    REDACTED,
    ProviderError,
    ProviderSettings,
)
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


def preview_request(form, sandboxes) -> dict:
    """The request a send would make from what is typed now, secrets redacted; or why there is none."""
    settings = form.provider_settings()
    sender = _sender_in_form(form, sandboxes)
    check = check_template(settings.payload_template, settings.payload_format)
    try:
        prepared = prepare(settings, sender, sender, _("Test message"))
    except ProviderError as error:
        return {"preview": None, "preview_problem": error.message, "preview_warnings": check.warnings}
    return {"preview": redact(prepared, settings.secret_values()), "preview_problem": None,
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


def sender_number(credential: ApiCredential) -> str:
    """The credential's sender number in the current sandbox, else in any sandbox."""
    numbers = sorted(credential.numbers, key=lambda n: (n.sandbox_id != current_sandbox().id, n.sandbox_id))
    return numbers[0].phone_number if numbers else SAMPLE_NUMBER


def _hidden(text: str, secrets) -> str:
    """A provider may echo what it was sent: its answer is shown with the secrets hidden."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


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
    secrets = settings.secret_values()
    sender = sender_number(credential)
    context = {"sender": sender, "sent_request": None, "answer": None, "test_problem": None}
    try:
        prepared = prepare(settings, to, sender, message)
        context["sent_request"] = redact(prepared, secrets)
        answer = send(settings, to, sender, message, transport=transport.for_credential(credential))
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


def _sender_in_form(form, sandboxes) -> str:
    """The number a preview sends from: the one typed for this sandbox, else any typed, else a sample."""
    here = current_sandbox().id
    typed = [(sandbox.id != here, form[f"number_{sandbox.id}"].data or "") for sandbox in sandboxes
             if form[f"use_{sandbox.id}"].data]
    return next((number for _elsewhere, number in sorted(typed) if E164.match(number)), SAMPLE_NUMBER)
