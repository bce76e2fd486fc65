"""Set up RCS with Twilio, declared as data. Twilio RCS goes through a custom-provider credential:
the source platform's Twilio SMS credentials can't carry RCS's payload. The four steps follow the
source help page."""
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from wizard.channels.forms import ChannelFieldsForm
from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.ids import id_or_none
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    CredentialNumber,
    Sandbox,
)
from wizard.credentials.custom import create_custom_credential, header_rows_changed, preview, run_test_request
from wizard.credentials.custom_forms import (
    CUSTOM_SECRET_FIELDS,
    CustomCredentialForm,
    custom_credential_data,
)
from wizard.guided.engine import CheckResult, Flow, Needs, Run, Step, submitted
from wizard.messaging.receiver_urls import reachability_warning, webhook_urls
from wizard.messaging.store import waiting_state
from wizard.providers import transport
from wizard.providers.custom.auth import AUTH_TYPES
from wizard.providers.custom.destinations import moved_secrets
from wizard.providers.custom.presets import twilio_rcs_preset
from wizard.providers.transport import TwilioAccount
from wizard.providers.twilio.checks import (
    CheckFailed,
    available_numbers,
    check_account,
    check_messaging_service,
)
from wizard.shell.fields import with_help
from wizard.shell.phones import e164, phone_number_validator

RCS_CONSOLE_ITEMS = [
    ("sender_created", _l("Create the RCS sender"),
     _l("Twilio console > Messaging > Senders > RCS: display name, description, logo, banner, contact details.")),
    ("sender_tested", _l("Test it on devices"),
     _l("Add test devices to the sender and send test messages: carriers review what the sender looks like.")),
    ("sender_submitted", _l("Submit it for carrier approval"),
     _l("In the sender's page, submit it. Approval by each carrier takes weeks.")),
    ("sender_approved", _l("Get approved"),
     _l("Wait for the carriers' approval; until then RCS messages only reach test devices.")),
    ("sender_in_pool", _l("Add the RCS sender to the Messaging Service's sender pool"),
     _l("Messaging Service > Sender Pool > Add Senders > RCS. Twilio then tries RCS first and falls back to SMS.")),
]


def _twilio_credentials_here():
    sandbox = current_sandbox()
    return list(ApiCredential.select().join(CredentialNumber)
                .where(ApiCredential.vendor == "twilio", CredentialNumber.sandbox == sandbox)
                .order_by(ApiCredential.name_key))


def rcs_registration_form(run: Run):

    class RcsRegistrationForm(FlaskForm):
        twilio_credential = SelectField(
            _l("Twilio API credential"), validate_choice=False,
            description=_l("The account, Messaging Service and numbers of this credential are checked."))

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.twilio_credential.choices = [SelectChoice("", gettext("Choose an API credential")),
                                              *(SelectChoice(str(c.id), c.name) for c in credentials)]
        rcs_sender_id = StringField(
            _l("RCS sender id"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
            description=_l("As the Twilio console shows it for the sender. Optional until the sender exists."),
            render_kw={"autocomplete": "off"},
            validators=[Optional(), Length(max=128, message=_l("An RCS sender id has at most 128 characters.")),
                        Regexp(r"^[A-Za-z0-9:_.\-]+$", message=_l("An RCS sender id has only letters, digits "
                                                                     "and : _ . - (as Twilio shows it)."))])

        def validate_twilio_credential(self, field):
            if not any(str(c.id) == field.data for c in _twilio_credentials_here()):
                raise ValidationError(_l("Choose the Twilio API credential whose account will send RCS."))

    credentials = _twilio_credentials_here()
    if not run.get_step_data("register") and len(credentials) == 1:  # e.g. just made by the SMS setup
        run.set_step_data("register", {"twilio_credential": str(credentials[0].id)})
    for name, label, _where in RCS_CONSOLE_ITEMS:
        setattr(RcsRegistrationForm, name, BooleanField(label))
    return RcsRegistrationForm


def _rcs_sandbox(run: Run) -> Sandbox:
    """The sandbox the RCS setup is for: the one it was in at step 1."""
    chosen = run.facts("register").get("sandbox_id")
    return (Sandbox.get_or_none(Sandbox.id == chosen) if chosen else None) or current_sandbox()


def _rcs_number(run: Run) -> CredentialNumber | None:
    """The Twilio credential's number in the setup's sandbox: the SMS fallback and RCS sender's service."""
    credential = _rcs_twilio_credential(run)
    if credential is None:
        return None
    return CredentialNumber.get_or_none(CredentialNumber.credential == credential,
                                        CredentialNumber.sandbox == _rcs_sandbox(run))


def _rcs_twilio_credential(run: Run) -> ApiCredential | None:
    chosen = run.value("register", "twilio_credential")
    chosen_id = id_or_none(chosen)
    return None if chosen_id is None else ApiCredential.get_or_none(ApiCredential.id == chosen_id)


def check_rcs_registration(run: Run, values: dict) -> CheckResult:
    """What Twilio's API can tell: a Full account, the Messaging Service, a fallback number."""
    credential = ApiCredential.get_by_id(int(values["twilio_credential"]))
    checks = rcs_live_checks(credential)
    failed = [check for check in checks if not check["ok"]]
    if failed:
        raise CheckFailed(failed[0]["fix"], field="twilio_credential")
    unconfirmed = unconfirmed_items(values)
    return CheckResult({"checks": checks, "sandbox_id": current_sandbox().id}, [unconfirmed] if unconfirmed else [])


def unconfirmed_items(values: dict) -> str | None:
    """The warning for console items not ticked yet (RCS then falls back to SMS), or None."""

    missing = [str(label) for name, label, _where in RCS_CONSOLE_ITEMS if not values.get(name)]
    if not missing:
        return None
    return gettext("Not confirmed yet: %(items)s. Until the sender is approved and in the sender pool, messages "
                   "go out as SMS.", items="; ".join(missing))


def rcs_live_checks(credential: ApiCredential) -> list[dict]:
    """Each live check: what it checks, whether it passed, and how to fix it."""

    results = []

    def record(label, ok, fix):
        results.append({"label": label, "ok": ok, "fix": fix})
        return ok

    twilio = TwilioAccount.of(credential)
    try:
        account = check_account(twilio).account
    except CheckFailed as failure:
        record(gettext("The Twilio account answers"), False, failure.message)
        return results
    record(gettext("The account is paid (Full), not Trial"), account.type == "Full",
           gettext("RCS needs a paid account: upgrade %(name)s in the Twilio console (Billing).",
                   name=account.friendly_name))
    try:
        service = check_messaging_service(twilio, credential.messaging_service_sid)
    except CheckFailed as failure:
        record(gettext("The Messaging Service exists"), False, failure.message)
        return results
    record(gettext("The Messaging Service exists"), True, "")
    numbers = available_numbers(twilio, service.sid).in_service
    record(gettext("The Messaging Service has an SMS/MMS number for the fallback"), bool(numbers),
           gettext("Add a phone number to the sender pool of %(name)s: messages fall back to it when RCS "
                   "can't reach a phone.", name=service.friendly_name))
    return results


def rcs_registration_context(run: Run) -> dict:
    return {"console_items": RCS_CONSOLE_ITEMS}


def run_rcs_checks(run: Run, form, argument: str = "") -> dict:
    """The "Run the checks" button: show every live check without leaving the step."""
    run.keep_typed(run.flow.step("register"), submitted(form))
    credential = _rcs_twilio_credential(run)
    checks = rcs_live_checks(credential) if credential else []
    return {"checks": checks, "fragment": "guided/steps/_rcs_checks.html"}


def rcs_webhook_context(run: Run) -> dict:

    credential = _rcs_twilio_credential(run)
    number = credential and CredentialNumber.get_or_none(CredentialNumber.credential == credential,
                                                        CredentialNumber.sandbox == current_sandbox())

    return {"twilio_credential": credential, "number": number, "urls": webhook_urls(number) if number else {},
            "warning": reachability_warning(), **(waiting_state(credential.id) if credential else {})}


def check_rcs_webhook(run: Run, values: dict) -> CheckResult:


    credential = _rcs_twilio_credential(run)
    if credential and waiting_state(credential.id)["first_signed_event"] is None:
        return CheckResult({}, [gettext("No signed request from Twilio has arrived yet: check the webhook URLs "
                                        "in the Messaging Service before you send to real people.")])
    return CheckResult()


def rcs_credential_form(run: Run):


    class RcsCredentialForm(CustomCredentialForm):
        # For "Send test request" only; not part of the credential.
        test_number = StringField(_l("Number"), filters=[e164], validators=[Optional(), phone_number_validator],
                                  description=_l("E.164, e.g. +14155550101. A phone that can receive RCS or SMS."))
        test_message = TextAreaField(_l("Message"), validators=[Length(max=1600, message=_l(
            "A message has at most 1600 characters."))])

    draft = run.values("credential")
    stored = {name: value for name, value in draft.items() if name in CUSTOM_SECRET_FIELDS and value}
    # In a practice sandbox only the Twilio simulator answers: no provider URL is looked up.
    allow_private = True if _rcs_sandbox(run).is_practice else None
    return lambda **kwargs: RcsCredentialForm(stored_secrets=stored, stored_urls=draft, allow_private=allow_private,
                                              **kwargs)


def _sample_numbers(run: Run) -> tuple[str, str]:
    """(from, to) for previews and test requests: the Twilio credential's number here."""
    number = _rcs_number(run)
    sender = number.phone_number if number else "+15005550006"
    return sender, run.value("credential", "test_number") or sender


def _typed_settings(run: Run, form):
    step = run.flow.step("credential")
    return form.provider_settings(stored=run.with_secrets(step, {}) | dict(form.stored_secrets))


def apply_rcs_preset(run: Run, form, argument: str = "") -> dict:
    """Fill the custom credential from the step-1 Twilio credential (Basic auth, Messages URL)."""

    twilio = _rcs_twilio_credential(run)
    settings = twilio_rcs_preset(twilio.account_sid, twilio.auth_token, twilio.messaging_service_sid)
    values = {**submitted(form), **custom_credential_data(settings), **settings.auth_secrets,
              "name": form.name.data or f"{twilio.name} RCS"}
    step = run.flow.step("credential")
    run.keep_typed(step, values)
    return {"form": run.form_for(step),
            "notice": gettext("The Twilio RCS preset is filled in from %(name)s.", name=twilio.name)}


def _preview(run: Run, settings, message: str) -> dict:
    sender, to = _sample_numbers(run)
    return preview(settings, sender, to, message or "Hello from RCS")


def preview_rcs_request(run: Run, form, argument: str = "") -> dict:
    """The request a send would make, secrets redacted, from what is typed now."""
    return {**_preview(run, _typed_settings(run, form), form.test_message.data),
            "fragment": "guided/steps/_rcs_preview.html"}


def rcs_credential_context(run: Run) -> dict:
    """The preview of what the draft holds so far (once it has a URL)."""
    context = {}
    step = run.flow.step("credential")
    if run.value("credential", "provider_url"):
        form = run.form_for(step)
        context.update(_preview(run, form.provider_settings(stored=run.with_secrets(step, {})),
                                run.value("credential", "test_message")))
    return context


def send_rcs_test_request(run: Run, form, argument: str = "") -> dict:
    """Send the real request to the provider and show its answer."""
    step = run.flow.step("credential")
    run.keep_typed(step, submitted(form))
    if not form.validate():
        return {"status": 422}
    settings = _typed_settings(run, form)
    sender, to = _sample_numbers(run)
    message = form.test_message.data or "Hello from RCS"
    # The whole step comes back: the answer, and any errors beside their fields.
    context = run_test_request(settings, to, sender, message, transport.for_sandbox(_rcs_sandbox(run)))
    run.set_fact("credential", "test_ok", context["answer"] is not None and context["answer"].ok)
    run.keep_typed(step, submitted(form))  # saves the outcome with the draft
    return context


def check_rcs_credential(run: Run, values: dict) -> CheckResult:
    previous = run.facts("credential")
    return CheckResult({"test_ok": bool(previous.get("test_ok"))})


def show_auth_fields(run: Run, form, argument: str = "") -> dict:
    """The auth type changed: show its fields, keeping what was typed."""
    step = run.flow.step("credential")
    run.keep_typed(step, submitted(form))
    return {"form": run.form_for(step)}


def _change_header_rows(run: Run, form, action: str, argument: str) -> dict:
    step = run.flow.step("credential")
    values = submitted(form)
    values["headers"] = header_rows_changed(values.get("headers", []), action, argument)
    run.keep_typed(step, values)
    return {"form": run.form_for(step)}


def add_header_row(run: Run, form, argument: str = "") -> dict:
    return _change_header_rows(run, form, "add_header", argument)


def remove_header_row(run: Run, form, argument: str = "") -> dict:
    return _change_header_rows(run, form, "remove_header", argument)


# The RCS step's shorter help for the channel configuration's fields.
RcsChannelForm = with_help(
    ChannelFieldsForm, name=_l("Starts with a letter; letters, digits and _ . - only."),
    subdomain=_l("Optional: a host name for short URLs, e.g. go.example.com."),
    execution_field=_l("The profile attribute that holds the phone number."))


def rcs_channel_form(run: Run):
    # Its name is unique in the sandbox the setup is for.
    return lambda **kwargs: RcsChannelForm(sandbox=_rcs_sandbox(run), **kwargs)


def rcs_channel_context(run: Run) -> dict:
    return {"number": _rcs_number(run), "custom_name": run.value("credential", "name")}


def create_rcs_setup(run: Run) -> str:
    """Create the custom credential, its number in this sandbox and the RCS channel configuration."""
    sandbox, number = _rcs_sandbox(run), _rcs_number(run)
    step = run.flow.step("credential")
    form = step.form(run)(formdata=None, data={k: v for k, v in run.values("credential").items()
                                               if k not in CUSTOM_SECRET_FIELDS})
    settings = form.provider_settings(stored=run.with_secrets(step, {}))
    verified = bool(run.facts("credential").get("test_ok"))
    credential = create_custom_credential(settings, {sandbox.id: number.phone_number}, verified)
    channel = run.values("channel")
    reason = None if verified else gettext(
        "No test request to %(provider)s has succeeded yet: send one from the API credential's page, then submit "
        "the channel configuration again.", provider=credential.provider_name)
    configuration = ChannelConfiguration.create(
        name=channel["name"], name_key=channel["name"].casefold(), description=channel.get("description") or "",
        channel="rcs", sms_type=channel["sms_type"], credential=credential, sandbox=sandbox,
        sender_number=number.phone_number, subdomain=channel.get("subdomain") or "",
        execution_field=channel["execution_field"], status="active" if verified else "draft", status_reason=reason,
    )
    audit.record("create", configuration, {
        "name": [None, configuration.name], "channel": [None, "rcs"], "credential": [None, credential.name],
        "status": [None, configuration.status]})
    return url_for("guided.rcs_done", configuration_id=configuration.id)


def rcs_summary(configuration: ChannelConfiguration) -> dict:
    """What the RCS setup made, for its summary: the custom credential, the channel configuration,
    and the Twilio number whose webhooks carry RCS replies and delivery updates."""
    number = (CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
              .where(CredentialNumber.sandbox == configuration.sandbox_id,
                     CredentialNumber.phone_number == configuration.sender_number, ApiCredential.vendor == "twilio")
              .first())
    return {"configuration": configuration, "credential": configuration.credential, "number": number,
            "urls": webhook_urls(number) if number else {}, "warning": reachability_warning(),
            **(waiting_state(number.credential_id) if number else {"first_signed_event": None})}


# Step 1 checks a Twilio credential: without one, the SMS/MMS setup makes it, then comes back.
NEEDS_TWILIO = Needs(
    met=lambda run: bool(_twilio_credentials_here()), flow="sms",
    message=_l("RCS is sent through a Twilio account: this step needs a Twilio API credential with a number in "
               "this sandbox, and there is none yet. Set up Twilio SMS/MMS first; when it is finished, you come "
               "back here."))


RCS = Flow(
    name="rcs",
    title=_l("Set up RCS with Twilio"),
    description=_l("Register RCS at Twilio, connect the webhooks, create the custom-provider credential RCS needs, "
                   "then the RCS channel configuration."),
    steps=[
        Step("register", _l("Register for RCS at Twilio"), "guided/steps/rcs_register.html", rcs_registration_form,
             check=check_rcs_registration, context=rcs_registration_context,
             actions={"check_live": run_rcs_checks}, needs=NEEDS_TWILIO,
             why=_l("RCS needs a paid Twilio account and a verified business sender that carriers approve, which "
                    "takes weeks. The usual surprise: without a phone number in the Messaging Service there is no "
                    "SMS fallback, and phones without RCS get nothing.")),
        Step("webhook", _l("Create the SMS webhook"), "guided/steps/rcs_webhook.html", lambda run: FlaskForm,
             check=check_rcs_webhook, context=rcs_webhook_context,
             why=_l("Replies and delivery updates for RCS arrive through the Messaging Service's webhooks, as for "
                    "SMS. If they point elsewhere, opt-outs are lost: that is what goes wrong most often.")),
        Step("credential", _l("Create the API credential with vendor Custom"), "guided/steps/rcs_credential.html",
             rcs_credential_form, check=check_rcs_credential, secret_fields=tuple(sorted(CUSTOM_SECRET_FIELDS)),
             moved_secrets=moved_secrets,
             context=rcs_credential_context,
             actions={"preset": apply_rcs_preset, "preview": preview_rcs_request, "test": send_rcs_test_request,
                      "auth_fields": show_auth_fields, "add_header": add_header_row,
                      "remove_header": remove_header_row},
             why=_l("The platform's Twilio SMS credential sends Twilio's SMS payload; RCS needs its own request, "
                    "so it is described as a custom provider. Most failures here are a wrong URL (it must be the "
                    "account's Messages endpoint) or a payload missing a placeholder.")),
        Step("channel", _l("Create the RCS channel configuration"), "guided/steps/rcs_channel.html",
             rcs_channel_form, context=rcs_channel_context,
             why=_l("Journeys send through a channel configuration. With RCS, the Messaging Service tries the RCS "
                    "sender first and falls back to SMS from the pool's number when a phone can't receive RCS.")),
    ],
    review_template="guided/steps/review_rcs.html",
    finish=create_rcs_setup,
    review_context=lambda run: {
        "twilio_name": getattr(_rcs_twilio_credential(run), "name", ""),
        "auth_label": getattr(AUTH_TYPES.get(run.value("credential", "auth_type")), "label", ""),
        "sender_number": getattr(_rcs_number(run), "phone_number", "—"),
    },
    label_from=("credential", "name"),
)
