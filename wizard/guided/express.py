"""Express setup: the guided SMS/MMS flow's remaining steps on one screen, once the account has passed.

It proposes the credential name, the Messaging Service, a number for each sandbox, our webhook URLs beside
Twilio's current ones and a test recipient; "Set it all up" then runs each step through the same code as
the step-by-step path (the steps' checks, the service and number operations, the one credential save,
Apply to Twilio, the test message). What succeeded is kept in the run, so after a failure a second press
goes on from there; the screen then shows what is done as done (not editable): what it shows is what is used."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from wizard.core.db import write_transaction
from wizard.core.models import ApiCredential
from wizard.credentials.forms import CredentialNameForm, incoming_numbers_form, service_name_field
from wizard.credentials.service_setup import (
    add_number,
    create_service,
    sender_pool,
    trial_context,
    urls_for_key,
    verified_recipients,
)
from wizard.credentials.test_message import send_test_message
from wizard.guided.engine import CheckResult, Run
from wizard.guided.flows.sms import (
    check_numbers,
    check_service,
    run_account,
    run_sandbox,
    run_webhook_key,
    sandboxes_by_kind,
    save_twilio_credential,
)
from wizard.providers.twilio.checks import CheckFailed, list_messaging_services, twilio_says
from wizard.providers.twilio.client import TwilioError
from wizard.providers.twilio.simulator import PRACTICE_PHONE
from wizard.shell.fields import one_kind_of_newline
from wizard.shell.phones import e164, phone_label, phone_number_validator
from wizard.webhooks.apply import apply_webhooks

NEW = "new"


__all__ = ["NEW", "STAGES", "StageFailed", "build_form", "done_stages", "done_values", "propose", "set_it_all_up",
           "trial_context"]


# The stages of "Set it all up", in order, with what the screen calls them.
STAGES = (("credential_name", _l("Credential name")), ("service", _l("Messaging Service")),
          ("number", _l("Numbers in the Messaging Service")), ("credential", _l("API credential saved")),
          ("webhooks", _l("Webhook URLs applied")), ("test", _l("Test message sent")))


DEFAULT_MESSAGE = _l("Hello from the Twilio setup wizard.")


class ExpressBase(CredentialNameForm):
    service = RadioField(_l("Messaging Service"), validate_choice=True)
    service_name = service_name_field(_l("Name of the new Messaging Service"))
    apply_webhooks = BooleanField(_l("Apply this app's URLs to the Messaging Service"), default=True)
    to = StringField(_l("Test recipient"), filters=[e164],
                     description=_l("The phone that gets the test message, in E.164 format."),
                     render_kw={"autocomplete": "off", "inputmode": "tel"},
                     validators=[DataRequired(_l("Enter the number to send the test message to.")),
                                 phone_number_validator])
    message = TextAreaField(_l("Test message"), filters=[one_kind_of_newline],
                            validators=[DataRequired(_l("Enter the message to send.")),
                                        Length(max=1600, message=_l("A message has at most 1600 characters."))])


def express_form_class(sandboxes, numbers_done: bool):
    """The screen's form: with, unless the numbers are done, the numbers step's form (a "use it here" box
    and a number for each sandbox, and its checks), each number chosen among the account's."""
    if numbers_done:
        return ExpressBase

    class ExpressForm(ExpressBase, incoming_numbers_form(sandboxes)):
        def validate(self, extra_validators=None):
            super().validate(extra_validators)
            for sandbox in sandboxes:  # a sandbox left out: its number is not asked about
                if not self[f"use_{sandbox.id}"].data:
                    self[f"number_{sandbox.id}"].errors = []
            return not self.form_errors and not any(f.errors for f in self)

    for sandbox in sandboxes:
        setattr(ExpressForm, f"number_{sandbox.id}",
                SelectField(_("Incoming number for %(name)s", name=sandbox.name), validate_choice=True))
    return ExpressForm


@dataclass
class Proposal:
    services: list = field(default_factory=list)
    pool: object = None
    service_sid: str = NEW
    current: object = None  # the chosen service as Twilio has it now (its webhook URLs)
    ours: dict = field(default_factory=dict)
    verified: list | None = None  # a Trial account's verified numbers
    error: str | None = None


def _proposed_service(services, pools) -> str:
    """The only one, else the first with numbers, else a new one."""
    if len(services) == 1:
        return services[0].sid
    with_numbers = [s for s in services if pools.get(s.sid)]
    return with_numbers[0].sid if with_numbers else NEW


def propose(run: Run, chosen: str | None = None) -> Proposal:
    """What the screen offers, asked of Twilio now; `chosen`: the service the admin picked."""
    proposal = Proposal(ours=urls_for_key(run_webhook_key(run)))
    account = run_account(run)
    if "service" in done_stages(run):  # what is done is what is used
        chosen = _facts(run).get("service_sid")
    try:
        proposal.services = list_messaging_services(account)
        proposal.pool = sender_pool(account, "")
        held = {}
        for item in proposal.pool.numbers:
            if item.service_sid:
                held.setdefault(item.service_sid, []).append(item)
        known = {s.sid for s in proposal.services}
        proposal.service_sid = chosen if chosen in known | {NEW} else _proposed_service(proposal.services, held)
        proposal.pool.service_sid = "" if proposal.service_sid == NEW else proposal.service_sid
        proposal.pool.numbers.sort(key=lambda n: (n.service_sid != proposal.pool.service_sid or not n.service_sid,
                                                  n.service_sid is not None))
        if proposal.service_sid != NEW:
            proposal.current = next(s for s in proposal.services if s.sid == proposal.service_sid)
        if run.facts("account").get("type") == "Trial":
            proposal.verified = verified_recipients(account)
    except CheckFailed as failure:
        proposal.error = failure.message
    return proposal


def _number_choices(proposal: Proposal) -> list[tuple[str, str]]:
    choices = []
    for item in proposal.pool.numbers if proposal.pool else []:
        if not item.number.sms:
            continue
        if item.service_sid and item.service_sid == proposal.pool.service_sid:
            where = _("in this service")
        elif item.service_sid:
            where = _("in %(name)s: Twilio will refuse to add it", name=item.service_name)
        else:
            where = _("will be added to the service")
        choices.append((item.number.phone_number, f"{phone_label(item.number.phone_number)} · {where}"))
    # Those already in the service first, then the loose ones, then those another service holds.
    order = {n.number.phone_number: i for i, n in enumerate(proposal.pool.numbers)} if proposal.pool else {}
    return sorted(choices, key=lambda c: order.get(c[0], 0))


def _proposed_numbers(proposal: Proposal, count: int) -> list[str]:
    """A number for each of `count` sandboxes: the service's own numbers (else the loose ones) in turn,
    one each while there are enough; a number another service holds only if there is nothing else."""
    numbers = [n for n in proposal.pool.numbers if n.number.sms] if proposal.pool else []
    own = [n for n in numbers if n.service_sid and n.service_sid == proposal.pool.service_sid]
    candidates = [n.number.phone_number for n in own or [n for n in numbers if not n.service_sid] or numbers]
    return [candidates[i % len(candidates)] for i in range(count)] if candidates else [None] * count


def build_form(run: Run, proposal: Proposal, formdata=None, repropose: bool = False):
    """The form with its choices from the proposal; first shown, filled with what is proposed (a number for
    each sandbox of the run's kind: a credential is practice or real, never both). `repropose`: the service
    was changed, so the numbers proposed for it replace those posted. Stages already done leave the form:
    the screen shows their values as done."""
    done = done_stages(run)
    sandboxes = sandboxes_by_kind(run)
    form_class = express_form_class(sandboxes, "number" in done)
    if formdata is not None:
        form = form_class(formdata=formdata)
    else:
        to = (proposal.verified or [""])[0] if proposal.verified is not None else (
            PRACTICE_PHONE if run_sandbox(run).is_practice else "")
        practice = run_sandbox(run).is_practice
        form = form_class(formdata=None, data={
            "name": run.value("credential", "name") or "", "service": proposal.service_sid,
            "service_name": (run.value("credential", "name") or "")[:64], "apply_webhooks": True,
            "to": to, "message": str(DEFAULT_MESSAGE),
            **{f"use_{s.id}": s.is_practice == practice for s in sandboxes}})
    form.service.choices = [(s.sid, f"{s.friendly_name} ({s.sid})") for s in proposal.services] + [
        (NEW, _("A new Messaging Service"))]
    if "number" not in done:
        choices = _number_choices(proposal)
        proposed = iter(_proposed_numbers(proposal, len(sandboxes)))
        again = formdata is None or repropose or ("service" not in done and form.service.data != proposal.service_sid)
        for sandbox in sandboxes:
            number, chosen = form[f"number_{sandbox.id}"], next(proposed)
            number.choices = choices
            if again or not number.data:  # a number posted that is none of these: "Not a valid choice"
                number.data = chosen
    if formdata is None or repropose or form.service.data != proposal.service_sid:
        form.service.data = proposal.service_sid
    for stage, fields in (("credential_name", ("name",)), ("service", ("service", "service_name")),
                          ("webhooks", ("apply_webhooks",))):
        if stage in done:
            for name in fields:
                del form[name]
    return form


def done_values(run: Run, proposal: Proposal) -> dict:
    """What the stages already done set, as the screen shows them: the name, the service, each sandbox's number."""
    numbers = run.get_step_data("numbers") or {}
    service_sid = _facts(run).get("service_sid")
    service = proposal.current if proposal.current and proposal.current.sid == service_sid else None
    return {"name": run.value("credential", "name"),
            "service": f"{service.friendly_name} ({service_sid})" if service else service_sid,
            "numbers": [(s.name, numbers[f"number_{s.id}"]) for s in sandboxes_by_kind(run)
                        if numbers.get(f"use_{s.id}")]}


class StageFailed(Exception):
    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage, self.message = stage, message


def _facts(run: Run) -> dict:
    return run.facts("express")


def done_stages(run: Run) -> list[str]:
    return list(_facts(run).get("done", []))


def _mark(run: Run, stage: str, **facts):
    run.set_fact("express", "done", [*done_stages(run), stage] if stage not in done_stages(run)
                 else done_stages(run))
    for name, value in facts.items():
        run.set_fact("express", name, value)
    run.save()


def _complete(run: Run, step_name: str, values: dict, check, stage: str):
    """Complete one of the flow's steps as its Next would: its own live check, then the draft."""
    step = run.flow.step(step_name)
    try:
        result = check(run, values) if check else CheckResult()
    except CheckFailed as failure:
        raise StageFailed(stage, failure.message) from failure
    run.complete(step, values, result)


def _add_numbers(run: Run, service_sid: str, chosen: dict[int, str]):
    """The chosen numbers not in the service yet added to it (each once), through the step-by-step code."""
    account, sandbox = run_account(run), run_sandbox(run)
    try:
        pool = sender_pool(account, service_sid)
    except CheckFailed as failure:
        raise StageFailed("number", failure.message) from failure
    for number in dict.fromkeys(chosen.values()):
        item = pool.by_phone(number or "")
        if item is None:
            raise StageFailed("number", _("%(number)s is not a phone number of this Twilio account.", number=number))
        if item.service_sid != service_sid:
            try:
                add_number(account, service_sid, item.number, sandbox)
            except CheckFailed as failure:
                raise StageFailed("number", failure.message) from failure


def set_it_all_up(run: Run, form, proposal: Proposal) -> tuple[ApiCredential, str]:
    """Run every stage not done yet; returns (credential, message SID) or raises StageFailed."""
    sandbox = run_sandbox(run)
    account = run_account(run)
    if "credential_name" not in done_stages(run):
        _complete(run, "credential", {"vendor": "twilio", "name": form.name.data}, None, "credential_name")
        _mark(run, "credential_name")

    service_sid = _facts(run).get("service_sid")
    if "service" not in done_stages(run):
        service_sid = form.service.data
        if service_sid == NEW:
            name = form.service_name.data or run.value("credential", "name")[:64]
            try:
                service_sid = create_service(account, name, proposal.ours, sandbox).sid
            except CheckFailed as failure:
                raise StageFailed("service", failure.message) from failure
            _mark(run, "service_created", created_sid=service_sid)
        _complete(run, "messaging_service", {"messaging_service_sid": service_sid}, check_service, "service")
        _mark(run, "service", service_sid=service_sid)

    if "number" not in done_stages(run):
        chosen = form.chosen()
        _add_numbers(run, service_sid, chosen)
        values = {}
        for sandbox_id, number in chosen.items():
            values.update({f"use_{sandbox_id}": True, f"number_{sandbox_id}": number})
        _complete(run, "numbers", values, check_numbers, "number")
        _mark(run, "number")

    credential = ApiCredential.get_or_none(ApiCredential.id == _facts(run).get("credential_id"))
    if credential is None:
        for step in run.flow.steps:  # as Finish does: a name may have been taken meanwhile
            ok, errors, _result = run.revalidate(step)
            if not ok:
                stage = {"credential": "credential_name", "messaging_service": "service"}.get(step.name, "number")
                raise StageFailed(stage, " ".join(" ".join(e) for e in errors.values()))
        with write_transaction():
            credential = save_twilio_credential(run)
        _mark(run, "credential", credential_id=credential.id)

    if "webhooks" not in done_stages(run) and form.apply_webhooks.data:
        # The service's URLs are those of one sandbox: the run's own if it uses the credential, else the first.
        numbers = list(credential.numbers)
        here = next((n for n in numbers if n.sandbox_id == sandbox.id), numbers[0])
        try:
            apply_webhooks(here)
        except TwilioError as error:
            raise StageFailed("webhooks", twilio_says(error)) from error
        _mark(run, "webhooks")

    try:
        sent = send_test_message(credential, form.to.data, form.message.data)
    except CheckFailed as failure:
        raise StageFailed("test", failure.message) from failure
    except TwilioError as error:
        raise StageFailed("test", twilio_says(error)) from error
    return credential, sent.sid
