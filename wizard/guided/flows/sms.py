"""Set up Twilio SMS/MMS, declared as data: vendor and name, account, Messaging Service, numbers."""
import dataclasses

from flask import url_for
from flask_babel import gettext as _
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
    service_name_field,
)
from wizard.credentials.service_setup import (
    BUY_NUMBERS_URL,
    add_number,
    create_service,
    new_webhook_key,
    sender_pool,
    urls_for_key,
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
class GuidedMessagingServiceForm(with_help(MessagingServiceForm,
                                           messaging_service_sid=_l("Or enter it: MG followed by 32 hex digits."))):
    service_name = service_name_field()  # a new Messaging Service's name (Create a Messaging Service)


class SmsVendorForm(CredentialNameForm):
    vendor = RadioField(_l("SMS vendor"), choices=VENDORS, default="twilio",
                        validate_choice=True)


def run_sandbox(run: Run) -> Sandbox:
    """The sandbox the run was started in (runs from before it was kept: the one in the header)."""
    return (Sandbox.get_or_none(Sandbox.id == run.sandbox_id) if run.sandbox_id else None) or current_sandbox()


def run_account(run: Run, typed: dict | None = None) -> TwilioAccount:
    """The account typed in the account step, reached as the run's sandbox reaches Twilio."""
    values = typed if typed is not None else run.get_step_data("account")
    return TwilioAccount(values.get("account_sid", ""), values.get("auth_token", ""),
                         transport.for_sandbox(run_sandbox(run)))


def _chosen_numbers(values: dict) -> dict[int, str]:
    """Sandbox id -> number, for the sandboxes ticked in the numbers step."""
    return {sandbox.id: values.get(f"number_{sandbox.id}", "") for sandbox in sandboxes_by_kind()
            if values.get(f"use_{sandbox.id}")}


def sandboxes_by_kind(run: Run | None = None):
    """Every sandbox by name; for a run, those of its own kind first (a real credential's real
    sandboxes before the practice ones, a practice run's practice sandboxes first)."""
    sandboxes = list(Sandbox.select().order_by(Sandbox.name_key))
    if run is None:
        return sandboxes
    practice = run_sandbox(run).is_practice
    return sorted(sandboxes, key=lambda sandbox: sandbox.is_practice != practice)


def custom_vendor_elsewhere(run: Run, values: dict) -> str | None:
    """Vendor Custom is a credential of its own kind: its page takes over, with the name typed."""
    if values.get("vendor") == "custom":
        return url_for("credentials.new_custom", name=values.get("name") or None)
    return None


def check_twilio_account(run: Run, values: dict) -> CheckResult:
    checked = check_account(run_account(run, values))
    account = checked.account
    facts = {"friendly_name": account.friendly_name, "status": account.status, "type": account.type}
    return CheckResult(facts, [checked.warning] if checked.warning else [])


def messaging_service_choices(run: Run) -> dict:
    """The account's Messaging Services, fetched live; a failure is shown, typing still works."""
    try:
        return {"services": list_messaging_services(run_account(run)), "services_error": None}
    except CheckFailed as failure:
        return {"services": [], "services_error": failure.message}


def check_service(run: Run, values: dict) -> CheckResult:
    service = check_messaging_service(run_account(run), values["messaging_service_sid"])
    return CheckResult({"friendly_name": service.friendly_name})


def number_choices(run: Run) -> dict:
    context = {"sandboxes": sandboxes_by_kind(run), "numbers": None, "numbers_error": None, **sender_pool_context(run)}
    try:
        context["numbers"] = available_numbers(run_account(run),
                                               run.value("messaging_service", "messaging_service_sid"))
    except CheckFailed as failure:
        context["numbers_error"] = failure.message
    else:
        context.update(readiness_context(run))
    return context


def readiness_context(run: Run) -> dict:
    """Whether the Messaging Service's numbers can send to US phones (a warning, never a blocker)."""
    return {"readiness": us_readiness(run_account(run), run.value("messaging_service", "messaging_service_sid"))}


def check_numbers(run: Run, values: dict) -> CheckResult:
    # Reached as the credential will be: by the sandboxes ticked here.
    account = dataclasses.replace(run_account(run), transport=transport.for_sandbox_ids(_chosen_numbers(values)))
    numbers = available_numbers(account, run.value("messaging_service", "messaging_service_sid"))
    warnings = []
    for sandbox in sandboxes_by_kind():
        if not values.get(f"use_{sandbox.id}"):
            continue
        error, warning = numbers.problem_with(values[f"number_{sandbox.id}"])
        if error:
            raise CheckFailed(error, field=f"number_{sandbox.id}")
        if warning:
            warnings.append(warning)
    return CheckResult({}, warnings)


def numbers_form(run: Run):
    form_class = incoming_numbers_form(sandboxes_by_kind())
    if not run.get_step_data("numbers"):  # first visit: the sandbox the run started in is the likely one
        sandbox = run_sandbox(run)
        run.set_step_data("numbers", {f"use_{sandbox.id}": True})
    return form_class


def save_twilio_credential(run: Run):
    """Create the credential and its numbers through the one save path (the caller holds the transaction).
    The run's sandbox keeps the webhook key its URLs were set on Twilio with, if any."""
    facts = run.facts("account")
    verified = Account(run_account(run).sid, facts.get("friendly_name") or "", facts.get("status") or "active",
                       facts.get("type") or "")
    key = run.facts("webhooks").get("key")
    return create_credential(
        name=run.value("credential", "name"), account=run_account(run),
        messaging_service_sid=run.value("messaging_service", "messaging_service_sid"),
        numbers=_chosen_numbers(run.get_step_data("numbers")), verified=verified,
        webhook_keys={run_sandbox(run).id: key} if key else None)


def create_twilio_credential(run: Run) -> str:
    return url_for("guided.sms_done", credential_id=save_twilio_credential(run).id)


# -- setting up the Twilio side from the flow: a new Messaging Service, numbers added to it ------------

def run_webhook_key(run: Run) -> str:
    """The key of the run's sandbox's webhook URLs, made before the credential is saved (so a Messaging
    Service created now carries the URLs the credential will have)."""
    key = run.facts("webhooks").get("key")
    if not key:
        key = new_webhook_key()
        run.set_fact("webhooks", "key", key)
        run.save()
    return key


def suggested_service_name(run: Run) -> str:
    return (run.value("credential", "name") or "")[:64]


def new_service_context(run: Run, form) -> dict:
    """What "Create a Messaging Service" shows: the name to give it and our URLs it will carry."""
    if not form.service_name.data:
        form.service_name.data = suggested_service_name(run)
    return {"creating": True, "new_service_urls": urls_for_key(run_webhook_key(run))}


def show_new_service(run: Run, form, argument: str) -> dict:
    return new_service_context(run, form)


def create_new_service(run: Run, form, argument: str) -> dict:
    """Confirmed: create the service with our URLs on it; the step is then done with it."""
    context = new_service_context(run, form)
    if not form.service_name.validate(form) or not form.service_name.data:
        if not form.service_name.errors:
            form.service_name.errors = [_("Enter a name for the Messaging Service.")]
        return {**context, "status": 422}
    try:
        service = create_service(run_account(run), form.service_name.data, context["new_service_urls"],
                                 run_sandbox(run))
    except CheckFailed as failure:
        return {**context, "status": 422, "form_error": failure.message, "retry": failure.retry}
    run.complete(run.flow.step("messaging_service"), {"messaging_service_sid": service.sid},
                 CheckResult({"friendly_name": service.friendly_name, "created": True}))
    return {"redirect": url_for("guided.step", flow_name=run.flow.name, token=run.token, step_name="numbers")}


def sender_pool_context(run: Run) -> dict:
    """The account's numbers beside the chosen service: in it, in another one (named), or in none."""
    try:
        pool = sender_pool(run_account(run), run.value("messaging_service", "messaging_service_sid"))
        return {"pool": pool, "pool_error": None, "buy_url": BUY_NUMBERS_URL}
    except CheckFailed as failure:
        return {"pool": None, "pool_error": failure.message, "buy_url": BUY_NUMBERS_URL}


def ask_add_number(run: Run, form, argument: str) -> dict:
    pool = sender_pool_context(run)
    found = pool["pool"].find(argument) if pool["pool"] else None
    if found is None:
        return {"status": 404, "form_error": _("That number is not on this Twilio account.")}
    return {"confirm_number": found}


def confirm_add_number(run: Run, form, argument: str) -> dict:
    """Confirmed: add it to the service's sender pool; the run's sandbox gets it when it has no number yet."""
    pool = sender_pool_context(run)
    found = pool["pool"].find(argument) if pool["pool"] else None
    if found is None:
        return {"status": 404, "form_error": pool["pool_error"] or _("That number is not on this Twilio account.")}
    try:
        added = add_number(run_account(run), run.value("messaging_service", "messaging_service_sid"), found.number,
                           run_sandbox(run))
    except CheckFailed as failure:
        return {"status": 422, "add_error": failure.message, "add_error_sid": argument}
    sandbox = run_sandbox(run)
    if f"number_{sandbox.id}" in form and not form[f"number_{sandbox.id}"].data:
        form[f"use_{sandbox.id}"].data = True
        form[f"number_{sandbox.id}"].data = added.phone_number
    return {"added_number": added.phone_number}


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
             actions={"new_service": show_new_service, "create_service": create_new_service},
             why=_l("Messages are sent through a Messaging Service, which owns the sender pool. The source "
                    "help page calls this field \"Message SID\", but a message's SID (SM...) changes with every "
                    "message: the credential needs the Messaging Service SID (MG...).")),
        Step("numbers", _l("Incoming numbers"), "guided/steps/numbers.html", numbers_form,
             check=check_numbers, context=number_choices,
             actions={"add_number": ask_add_number, "confirm_add_number": confirm_add_number},
             why=_l("Each sandbox that uses the credential needs its own incoming number, so replies and "
                    "opt-outs reach the right environment. A number that is on the account but not in the "
                    "Messaging Service's sender pool is not used by the service.")),
    ],
    review_template="guided/steps/review_sms.html",
    finish=create_twilio_credential,
    label_from=("credential", "name"),
    review_context=lambda run: {"sandbox_names": {s.id: s.name for s in sandboxes_by_kind()}},
)
