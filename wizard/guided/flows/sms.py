"""Set up Twilio SMS/MMS, declared as data: vendor and name, account, Messaging Service, numbers."""
import dataclasses

from flask import url_for
from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from wizard.core.context import current_sandbox
from wizard.core.models import Sandbox
from wizard.credentials.forms import (
    CredentialNameForm,
    MessagingServiceForm,
    TwilioAccountForm,
    incoming_numbers_form,
)
from wizard.credentials.twilio import create_credential
from wizard.guided.engine import CheckResult, Flow, Run, Step
from wizard.providers import transport
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import (
    CheckFailed,
    available_numbers,
    check_account,
    check_messaging_service,
    list_messaging_services,
)
from wizard.providers.twilio.client import Account
from wizard.providers.twilio.readiness import us_readiness
from wizard.shell.fields import with_help

VENDORS = [SelectChoice("twilio", "Twilio"), SelectChoice("custom", _l("Custom"))]


# This flow's shorter help: the account step says where to find both values, the Messaging
# Service step lists the account's services above the field.
GuidedAccountForm = with_help(TwilioAccountForm, account_sid=_l("AC followed by 32 hex digits."))
GuidedMessagingServiceForm = with_help(MessagingServiceForm,
                                       messaging_service_sid=_l("Or enter it: MG followed by 32 hex digits."))


class SmsVendorForm(CredentialNameForm):
    vendor = RadioField(_l("SMS vendor"), choices=VENDORS, default="twilio",
                        validate_choice=True)


def _run_sandbox(run: Run) -> Sandbox:
    """The sandbox the run was started in (runs from before it was kept: the one in the header)."""
    return (Sandbox.get_or_none(Sandbox.id == run.sandbox_id) if run.sandbox_id else None) or current_sandbox()


def _account(run: Run, typed: dict | None = None) -> TwilioAccount:
    """The account typed in the account step, reached as the run's sandbox reaches Twilio."""
    values = typed if typed is not None else run.get_step_data("account")
    return TwilioAccount(values.get("account_sid", ""), values.get("auth_token", ""),
                         transport.for_sandbox(_run_sandbox(run)))


def _chosen_numbers(values: dict) -> dict[int, str]:
    """Sandbox id -> number, for the sandboxes ticked in the numbers step."""
    return {sandbox.id: values.get(f"number_{sandbox.id}", "") for sandbox in _sandboxes()
            if values.get(f"use_{sandbox.id}")}


def _sandboxes(run: Run | None = None):
    """Every sandbox by name; for a run, those of its own kind first (a real credential's real
    sandboxes before the practice ones, a practice run's practice sandboxes first)."""
    sandboxes = list(Sandbox.select().order_by(Sandbox.name_key))
    if run is None:
        return sandboxes
    practice = _run_sandbox(run).is_practice
    return sorted(sandboxes, key=lambda sandbox: sandbox.is_practice != practice)


def custom_vendor_elsewhere(run: Run, values: dict) -> str | None:
    """Vendor Custom is a credential of its own kind: its page takes over, with the name typed."""
    if values.get("vendor") == "custom":
        return url_for("credentials.new_custom", name=values.get("name") or None)
    return None


def check_twilio_account(run: Run, values: dict) -> CheckResult:
    checked = check_account(_account(run, values))
    account = checked.account
    facts = {"friendly_name": account.friendly_name, "status": account.status, "type": account.type}
    return CheckResult(facts, [checked.warning] if checked.warning else [])


def messaging_service_choices(run: Run) -> dict:
    """The account's Messaging Services, fetched live; a failure is shown, typing still works."""
    try:
        return {"services": list_messaging_services(_account(run)), "services_error": None}
    except CheckFailed as failure:
        return {"services": [], "services_error": failure.message}


def check_service(run: Run, values: dict) -> CheckResult:
    service = check_messaging_service(_account(run), values["messaging_service_sid"])
    return CheckResult({"friendly_name": service.friendly_name})


def number_choices(run: Run) -> dict:
    context = {"sandboxes": _sandboxes(run), "numbers": None, "numbers_error": None}
    try:
        context["numbers"] = available_numbers(_account(run), run.value("messaging_service", "messaging_service_sid"))
    except CheckFailed as failure:
        context["numbers_error"] = failure.message
    else:
        context.update(readiness_context(run))
    return context


def readiness_context(run: Run) -> dict:
    """Whether the Messaging Service's numbers can send to US phones (a warning, never a blocker)."""
    return {"readiness": us_readiness(_account(run), run.value("messaging_service", "messaging_service_sid"))}


def check_numbers(run: Run, values: dict) -> CheckResult:
    # Reached as the credential will be: by the sandboxes ticked here.
    account = dataclasses.replace(_account(run), transport=transport.for_sandbox_ids(_chosen_numbers(values)))
    numbers = available_numbers(account, run.value("messaging_service", "messaging_service_sid"))
    warnings = []
    for sandbox in _sandboxes():
        if not values.get(f"use_{sandbox.id}"):
            continue
        error, warning = numbers.problem_with(values[f"number_{sandbox.id}"])
        if error:
            raise CheckFailed(error, field=f"number_{sandbox.id}")
        if warning:
            warnings.append(warning)
    return CheckResult({}, warnings)


def numbers_form(run: Run):
    form_class = incoming_numbers_form(_sandboxes())
    if not run.get_step_data("numbers"):  # first visit: the sandbox the run started in is the likely one
        sandbox = _run_sandbox(run)
        run.set_step_data("numbers", {f"use_{sandbox.id}": True})
    return form_class


def create_twilio_credential(run: Run) -> str:
    """Create the credential and its numbers through the one save path (the caller holds the transaction)."""
    facts = run.facts("account")
    verified = Account(_account(run).sid, facts.get("friendly_name") or "", facts.get("status") or "active",
                       facts.get("type") or "")
    credential = create_credential(
        name=run.value("credential", "name"), account=_account(run),
        messaging_service_sid=run.value("messaging_service", "messaging_service_sid"),
        numbers=_chosen_numbers(run.get_step_data("numbers")), verified=verified)
    return url_for("guided.sms_done", credential_id=credential.id)


SMS = Flow(
    name="sms",
    title=_l("Set up Twilio SMS/MMS"),
    description=_l("Create an API credential for Twilio, checked live against your account, then a channel "
                   "configuration that uses it."),
    steps=[
        Step("credential", _l("Vendor and name"), "guided/steps/credential.html", lambda run: SmsVendorForm,
             branch=custom_vendor_elsewhere,
             why=_l("The platform keeps one API credential per provider account; its name is how channel "
                    "configurations refer to it. Names must be unique, so teams usually add the environment, "
                    "e.g. \"Twilio prod\".")),
        Step("account", _l("Account SID and Auth Token"), "guided/steps/account.html",
             lambda run: lambda **kw: GuidedAccountForm(token_stored=bool(run.value("account", "auth_token")), **kw),
             check=check_twilio_account, secret_fields=("auth_token",),
             why=_l("Twilio authenticates every API call with the Account SID and Auth Token from the Account "
                    "Info pane of the console. The usual mistake is a token from another account or a "
                    "subaccount, which Twilio answers with error 20003.")),
        Step("messaging_service", _l("Messaging Service"), "guided/steps/messaging_service.html",
             lambda run: GuidedMessagingServiceForm, check=check_service, context=messaging_service_choices,
             why=_l("Messages are sent through a Messaging Service, which owns the sender pool. The source "
                    "help page calls this field \"Message SID\", but a message's SID (SM...) changes with every "
                    "message: the credential needs the Messaging Service SID (MG...).")),
        Step("numbers", _l("Incoming numbers"), "guided/steps/numbers.html", numbers_form,
             check=check_numbers, context=number_choices,
             why=_l("Each sandbox that uses the credential needs its own incoming number, so replies and "
                    "opt-outs reach the right environment. A number that is on the account but not in the "
                    "Messaging Service's sender pool is not used by the service.")),
    ],
    review_template="guided/steps/review_sms.html",
    finish=create_twilio_credential,
    label_from=("credential", "name"),
    review_context=lambda run: {"sandbox_names": {s.id: s.name for s in _sandboxes()}},
)
