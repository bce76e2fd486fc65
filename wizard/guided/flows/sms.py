"""Set up Twilio SMS/MMS, declared as data: vendor and name, account, Messaging Service, numbers."""
from flask import url_for
from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.models import ApiCredential, CredentialNumber, Sandbox, utcnow
from wizard.credentials.forms import (
    CredentialNameForm,
    MessagingServiceForm,
    TwilioAccountForm,
    incoming_numbers_form,
)
from wizard.guided.engine import CheckResult, Flow, Run, Step
from wizard.providers.twilio.checks import (
    CheckFailed,
    available_numbers,
    check_account,
    check_messaging_service,
    list_messaging_services,
)

VENDORS = [SelectChoice("twilio", "Twilio"), SelectChoice("custom", _l("Custom"))]


class SmsVendorForm(CredentialNameForm):
    vendor = RadioField(_l("SMS vendor"), choices=VENDORS, default="twilio",
                        validate_choice=True)


def _account(run: Run) -> tuple[str, str]:
    values = run.values("account")
    return values.get("account_sid", ""), values.get("auth_token", "")


def _sandboxes():
    return list(Sandbox.select().order_by(Sandbox.name_key))


def custom_vendor_elsewhere(run: Run, values: dict) -> str | None:
    """Vendor Custom is a credential of its own kind: its page takes over, with the name typed."""
    if values.get("vendor") == "custom":
        return url_for("credentials.new_custom", name=values.get("name") or None)
    return None


def check_twilio_account(run: Run, values: dict) -> CheckResult:
    checked = check_account(values["account_sid"], values["auth_token"])
    account = checked.account
    facts = {"friendly_name": account.friendly_name, "status": account.status, "type": account.type}
    return CheckResult(facts, [checked.warning] if checked.warning else [])


def messaging_service_choices(run: Run) -> dict:
    """The account's Messaging Services, fetched live; a failure is shown, typing still works."""
    try:
        return {"services": list_messaging_services(*_account(run)), "services_error": None}
    except CheckFailed as failure:
        return {"services": [], "services_error": failure.message}


def check_service(run: Run, values: dict) -> CheckResult:
    service = check_messaging_service(*_account(run), values["messaging_service_sid"])
    return CheckResult({"friendly_name": service.friendly_name})


def number_choices(run: Run) -> dict:
    context = {"sandboxes": _sandboxes(), "numbers": None, "numbers_error": None}
    try:
        context["numbers"] = available_numbers(*_account(run), run.value("messaging_service", "messaging_service_sid"))
    except CheckFailed as failure:
        context["numbers_error"] = failure.message
    return context


def check_numbers(run: Run, values: dict) -> CheckResult:
    numbers = available_numbers(*_account(run), run.value("messaging_service", "messaging_service_sid"))
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
    if not run.values("numbers"):  # first visit: the sandbox in the header is the likely one
        sandbox = current_sandbox()
        run.draft["values"]["numbers"] = {f"use_{sandbox.id}": True}
    return form_class


def create_twilio_credential(run: Run) -> str:
    """Create the credential and its numbers (the caller holds the transaction)."""
    name = run.value("credential", "name")
    sid, token = _account(run)
    account = run.facts("account")
    credential = ApiCredential(
        name=name, name_key=name.casefold(), vendor="twilio", account_sid=sid,
        messaging_service_sid=run.value("messaging_service", "messaging_service_sid"),
        account_name=account.get("friendly_name"), account_type=account.get("type"),
        verification_state="verified", verified_at=utcnow(),
    )
    credential.set_auth_token(token)
    credential.save()
    numbers = {}
    for sandbox in _sandboxes():
        if run.value("numbers", f"use_{sandbox.id}"):
            number = run.value("numbers", f"number_{sandbox.id}")
            CredentialNumber.create(credential=credential, sandbox=sandbox, phone_number=number)
            numbers[sandbox.name] = number
    audit.record("create", credential, {
        "name": [None, name], "account_sid": [None, sid], "auth_token": [None, "set"],
        "messaging_service_sid": [None, credential.messaging_service_sid], "numbers": [None, numbers],
    }, secret_fields=ApiCredential.SECRET_FIELDS)
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
             lambda run: lambda **kw: TwilioAccountForm(token_stored=bool(run.value("account", "auth_token")), **kw),
             check=check_twilio_account, secret_fields=("auth_token",),
             why=_l("Twilio authenticates every API call with the Account SID and Auth Token from the Account "
                    "Info pane of the console. The usual mistake is a token from another account or a "
                    "subaccount, which Twilio answers with error 20003.")),
        Step("messaging_service", _l("Messaging Service"), "guided/steps/messaging_service.html",
             lambda run: MessagingServiceForm, check=check_service, context=messaging_service_choices,
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
