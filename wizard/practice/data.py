"""The practice sandbox's data: created on first run, and reset on demand."""
from flask import current_app

from wizard.core import audit
from wizard.core.db import database
from wizard.core.ids import id_or_none
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    Consent,
    ConsentEvent,
    CredentialNumber,
    CustomWebhook,
    GuidedRun,
    InboundMessage,
    KeywordRule,
    KeywordSettings,
    OutboundMessage,
    Sandbox,
    StatusEvent,
)
from wizard.guided.engine import Run
from wizard.guided.flows import FLOWS
from wizard.providers.transport import simulator
from wizard.providers.twilio.simulator import PRACTICE_ACCOUNTS

PRACTICE_SANDBOX_NAME = "practice"


def _practice_run(row: GuidedRun, sandbox: Sandbox, credential_ids: set[int]) -> bool:
    """Whether an unfinished guided run belongs to this practice sandbox: it was started here, uses
    a practice account, or builds on a credential that the reset removes."""
    if row.flow not in FLOWS:
        return False
    run = Run(row, FLOWS[row.flow])
    if run.sandbox_id == sandbox.id or run.facts("register").get("sandbox_id") == sandbox.id:
        return True
    if run.value("account", "account_sid") in {account.sid for account in PRACTICE_ACCOUNTS}:
        return True
    return id_or_none(run.value("register", "twilio_credential")) in credential_ids


# What a reset removes, by kind, in the order the report names them (wizard/practice/views.py).
REMOVED_KINDS = ("credentials", "numbers", "channel_configurations", "webhooks", "keyword_rules", "keyword_settings",
                 "sent_messages", "received_messages", "status_events", "consent_records", "consent_changes",
                 "guided_runs")


def reset_practice_data(sandbox: Sandbox) -> dict[str, int]:
    """Delete this sandbox's channel configurations, webhooks, keyword rules, events, consent and
    numbers, the credentials only it used and its unfinished runs; then reset the simulator.
    Nothing of any other sandbox is touched. Returns how many rows of each kind (REMOVED_KINDS)
    were removed."""
    if not sandbox.is_practice:
        raise ValueError("only a practice sandbox is reset")
    removed = dict.fromkeys(REMOVED_KINDS, 0)
    with database.atomic():
        numbers = list(CredentialNumber.select().where(CredentialNumber.sandbox == sandbox))
        webhooks = list(CustomWebhook.select().where(CustomWebhook.sandbox == sandbox))
        credential_ids = {n.credential_id for n in numbers} | {w.credential_id for w in webhooks if w.credential_id}
        for configuration in ChannelConfiguration.select().where(ChannelConfiguration.sandbox == sandbox):
            audit.record("delete", configuration, {"name": [configuration.name, None]})
            configuration.delete_instance()
            removed["channel_configurations"] += 1
        for webhook in webhooks:
            audit.record("delete", webhook, {"name": [webhook.name, None]})
            webhook.delete_instance()
            removed["webhooks"] += 1
        for rule in KeywordRule.select().where(KeywordRule.sandbox == sandbox):
            audit.record("delete", rule, {"keywords": [rule.keyword_list, None]})
            rule.delete_instance()
            removed["keyword_rules"] += 1
        for settings in KeywordSettings.select().where(KeywordSettings.sandbox == sandbox):
            audit.record("delete", settings, {"default_reply": [settings.default_reply, None]})
            settings.delete_instance()
            removed["keyword_settings"] += 1
        consents = Consent.select(Consent.id).where(Consent.sandbox == sandbox)
        removed["consent_changes"] = ConsentEvent.delete().where(ConsentEvent.consent.in_(consents)).execute()
        removed["consent_records"] = Consent.delete().where(Consent.sandbox == sandbox).execute()
        for kind, model in (("received_messages", InboundMessage), ("status_events", StatusEvent),
                            ("sent_messages", OutboundMessage)):
            removed[kind] = model.delete().where(model.sandbox == sandbox).execute()
        removed["numbers"] = CredentialNumber.delete().where(CredentialNumber.sandbox == sandbox).execute()
        for credential in ApiCredential.select().where(ApiCredential.id.in_(list(credential_ids) or [0])):
            number = next((n.phone_number for n in numbers if n.credential_id == credential.id), None)
            still_used = (CredentialNumber.select().where(CredentialNumber.credential == credential).exists()
                          or CustomWebhook.select().where(CustomWebhook.credential == credential).exists()
                          or ChannelConfiguration.select().where(
                              ChannelConfiguration.credential == credential).exists())
            if still_used:  # another sandbox uses it: only its number here goes
                audit.record("update", credential, {"numbers": [{sandbox.name: number}, None]})
                continue
            audit.record("delete", credential, {"name": [credential.name, None]},
                         secret_fields=ApiCredential.SECRET_FIELDS)
            credential.delete_instance()
            removed["credentials"] += 1
        for run in list(GuidedRun.select()):
            if _practice_run(run, sandbox, credential_ids):
                run.delete_instance()
                removed["guided_runs"] += 1
        audit.record("update", sandbox, {"practice_data": [None, "reset"]})
    simulator().reset()
    current_app.logger.info("practice data of sandbox %s reset (%s)", sandbox.name,
                            ", ".join(f"{kind} {count}" for kind, count in removed.items() if count))
    return removed


def ensure_practice_sandbox() -> tuple[Sandbox, bool]:
    """A practice sandbox to start in: the existing one, else a new one named "practice"."""
    existing = Sandbox.select().where(Sandbox.is_practice == True).order_by(Sandbox.id).first()  # noqa: E712
    if existing is not None:
        return existing, False
    name = PRACTICE_SANDBOX_NAME
    taken = {row.name_key for row in Sandbox.select(Sandbox.name_key)}
    suffix = 2
    while Sandbox.key_for(name) in taken:  # a real sandbox already has the name: leave it as it is
        name, suffix = f"{PRACTICE_SANDBOX_NAME} {suffix}", suffix + 1
    with database.atomic():
        sandbox = Sandbox.create(name=name, name_key=Sandbox.key_for(name), is_practice=True)
        audit.record("create", sandbox, {"name": [None, name], "is_practice": [None, True]})
    return sandbox, True
