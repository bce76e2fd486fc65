"""Saving Twilio credentials: one path for the guided flow and the edit page, Twilio asked first."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from wizard.core import audit
from wizard.core.db import database
from wizard.core.editing import check_unchanged, update_unchanged
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    CredentialNumber,
    Sandbox,
    utcnow,
)
from wizard.providers import transport
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import available_numbers, check_account, check_messaging_service
from wizard.providers.twilio.client import Account
from wizard.shell.i18n import joined


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


def _snapshot(credential: ApiCredential, numbers: dict[int, str], sandboxes) -> dict:
    """The audited fields, a number for every sandbox (None where unused); never a secret."""
    state = {
        "name": credential.name,
        "account_sid": credential.account_sid,
        "messaging_service_sid": credential.messaging_service_sid,
        "verification_state": credential.verification_state,
    }
    return state | numbers_by_name(numbers, sandboxes)


def numbers_by_name(numbers: dict[int, str], sandboxes) -> dict:
    """A credential's number in every sandbox, as audited: "number (prod)" -> E.164, None where unused."""
    return {f"number ({sandbox.name})": numbers.get(sandbox.id) for sandbox in sandboxes}


def _initial(credential: ApiCredential, sandboxes) -> dict:
    data = {"name": credential.name, "account_sid": credential.account_sid,
            "messaging_service_sid": credential.messaging_service_sid, "version": str(credential.version)}
    numbers = credential.numbers_by_sandbox()
    for sandbox in sandboxes:
        data[f"use_{sandbox.id}"] = sandbox.id in numbers
        data[f"number_{sandbox.id}"] = numbers.get(sandbox.id, "")
    return data


def _columns(name: str, account_sid: str, messaging_service_sid: str, auth_token: str | None,
             verified: Account | None) -> dict:
    """A Twilio credential's columns from what was typed. A token comes with the last four digits lists
    mask it by; `verified` is the account as Twilio just described it."""
    columns = {"name": name, "name_key": name.casefold(), "account_sid": account_sid,
               "messaging_service_sid": messaging_service_sid}
    if auth_token:
        columns.update(auth_token=auth_token, auth_token_last4=auth_token[-4:])
    if verified is not None:
        columns.update(verification_state="verified", verified_at=utcnow(), verification_error=None,
                       account_name=verified.friendly_name, account_type=verified.type)
    return columns


def create_credential(*, name: str, account: TwilioAccount, messaging_service_sid: str, numbers: dict[int, str],
                      verified: Account, webhook_keys: dict[int, str] | None = None) -> ApiCredential:
    """A Twilio credential Twilio has just verified, its number in each sandbox, and the audit entry.
    `webhook_keys`: sandbox id -> the key of its webhook URLs, when they were set on Twilio before the
    credential existed (a Messaging Service created by the wizard). The caller holds the transaction."""
    credential = ApiCredential.create(vendor="twilio", **_columns(name, account.sid, messaging_service_sid,
                                                                   account.token, verified))
    for sandbox_id, number in numbers.items():
        key = (webhook_keys or {}).get(sandbox_id)
        CredentialNumber.create(credential=credential, sandbox=sandbox_id, phone_number=number,
                                **({"webhook_key": key} if key else {}))
    sandboxes = Sandbox.select().order_by(Sandbox.name_key)
    changes = audit.diff({}, _snapshot(credential, numbers, sandboxes))
    changes["auth_token"] = [None, "set"]
    audit.record("create", credential, changes, secret_fields=ApiCredential.SECRET_FIELDS)
    return credential


@dataclass
class TwilioAgrees:
    account: Account | None  # as Twilio described it, when the account was asked about
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
    # Reached as it will be saved: by the sandboxes chosen on the form.
    account = TwilioAccount(form.account_sid.data, token, transport.for_sandbox_ids(form.chosen()))
    if account_changed:
        checked = check_account(account)
        check_messaging_service(account, form.messaging_service_sid.data)
        agrees.account = checked.account
        agrees.warnings += [checked.warning] if checked.warning else []
    if to_check:
        available = available_numbers(account, form.messaging_service_sid.data)
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
                len(users), names=joined(users), sandbox=sandbox.name)
    return refusals


def save_credential(form, credential: ApiCredential, sandboxes, account: Account | None) -> list[str]:
    """Write the form over the credential, if nobody saved it since the form was opened.

    `account` is given when Twilio has just verified the credential. Returns what the admin
    should be told besides "saved"; raises EditConflict.
    """
    stored_numbers = credential.numbers_by_sandbox()
    before = _snapshot(credential, stored_numbers, sandboxes)
    new_token = form.auth_token.data or None
    token_changed = new_token is not None and new_token != credential.auth_token
    columns = _columns(form.name.data, form.account_sid.data, form.messaging_service_sid.data,
                       new_token if token_changed else None, account)
    values = {getattr(ApiCredential, name): value for name, value in columns.items()}
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
