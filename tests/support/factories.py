"""Objects as the app would have saved them, for tests that start past the guided flow."""
import json

from wizard.core import audit
from wizard.core.db import database
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    Consent,
    ConsentEvent,
    CredentialNumber,
    CustomWebhook,
    InboundMessage,
    KeywordRule,
    KeywordSettings,
    OutboundMessage,
    Sandbox,
    StatusEvent,
)
from wizard.providers.twilio.simulator import DEMO_ACCOUNT, DEMO_SERVICES


def make_credential(app, fake_twilio, name="Main Twilio", numbers=None, **fields) -> int:
    """A verified Twilio credential for the fake's seeded account; numbers: {sandbox name: E.164}."""
    numbers = numbers if numbers is not None else {"prod": fake_twilio.service_numbers[0]}
    auth_token = fields.pop("auth_token", fake_twilio.auth_token)
    with app.app_context(), database.connection_context(), database.atomic():
        credential = ApiCredential(
            name=name,
            name_key=name.casefold(),
            account_sid=fields.pop("account_sid", fake_twilio.account_sid),
            messaging_service_sid=fields.pop("messaging_service_sid", fake_twilio.service_sid),
            account_name=fake_twilio.account_name,
            account_type="Full",
            verification_state="verified",
            **fields,
        )
        credential.set_auth_token(auth_token)
        credential.save()
        for sandbox_name, number in numbers.items():
            sandbox = Sandbox.get_or_none(Sandbox.name == sandbox_name) or Sandbox.create(
                name=sandbox_name, name_key=sandbox_name.casefold())
            CredentialNumber.create(credential=credential, sandbox=sandbox, phone_number=number)
        return credential.id


def make_channel_configuration(app, credential_id, name="Marketing_SMS", sandbox="prod", **fields) -> int:
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get(Sandbox.name == sandbox)
        number = CredentialNumber.get(CredentialNumber.credential == credential_id, CredentialNumber.sandbox == sandbox)
        configuration = ChannelConfiguration.create(
            name=name, name_key=name.casefold(), sms_type=fields.pop("sms_type", "marketing"),
            credential=credential_id, sandbox=sandbox, sender_number=number.phone_number, **fields)
        return configuration.id


def long_name(kind: str) -> str:
    """A 60-character name without a space, as some admins type them."""
    return (kind + "_" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3)[:60]


def make_long_named_practice(app, fake_twilio) -> dict:
    """A practice sandbox and something of every kind in it, each named with 60 characters and
    no space: credentials (Twilio and custom), a channel configuration, a custom webhook, keyword
    rules, messages and their events, consent, and audit entries that print webhook URLs. Returns
    what the pages need: {"sandbox": id, "credential": id, "custom": id, "configuration": id,
    "webhook": id, "rule": id, "consent": id, "number": id, "message_sid": str}."""
    sandbox_name = long_name("Practice_sandbox")
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.create(name=sandbox_name, name_key=sandbox_name.casefold(), is_practice=True)
    number = DEMO_SERVICES[0].numbers[0]
    credential = make_credential(app, fake_twilio, name=long_name("Twilio_credential"), numbers={sandbox_name: number},
                                 account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                                 messaging_service_sid=DEMO_SERVICES[0].sid)
    configuration = make_channel_configuration(app, credential, name=long_name("Channel_configuration"),
                                               sandbox=sandbox_name, description=long_name("Description"))
    sid = "SM" + "a" * 32
    long_word = long_name("Message_body") + long_name("Continued")
    url = "https://" + long_name("public-host").lower().replace("_", "-") + ".example/hooks/twilio/" + "k" * 24
    with app.test_request_context(), database.connection_context(), database.atomic():
        custom = ApiCredential.create(
            name=long_name("Custom_credential"), name_key=long_name("Custom_credential").casefold(), vendor="custom",
            provider_name=long_name("Provider"), provider_url="https://" + long_name("provider").lower() + ".example/"
            + long_name("send"), auth_type="api_key", payload_format="json", payload_template="{}")
        CredentialNumber.create(credential=custom, sandbox=sandbox, phone_number="+14155550101")
        webhook = CustomWebhook.create(
            name=long_name("Custom_webhook"), name_key=long_name("Custom_webhook").casefold(), type="inbound",
            credential=custom, sandbox=sandbox, sender_number="+14155550101",
            payload=json.dumps({"text": "{{InboundMessage}}", long_name("field"): long_name("value")}))
        rule = KeywordRule.create(credential=credential, sandbox=sandbox, category="custom",
                                  keywords=json.dumps([long_name("KEYWORD")]), reply=long_word)
        KeywordSettings.create(credential=credential, sandbox=sandbox, default_reply=long_word)
        OutboundMessage.create(sandbox=sandbox, credential=credential, message_sid=sid, to_number="+12025550123",
                               status="undelivered", error_code="30003")
        for status in ("queued", "sent", "undelivered"):
            StatusEvent.create(sandbox=sandbox, credential=credential, message_sid=sid, status=status,
                               error_code="30003" if status == "undelivered" else None,
                               params=json.dumps({"MessageSid": sid, "Extra": long_word}))
        InboundMessage.create(sandbox=sandbox, credential=credential, message_sid="SM" + "b" * 32,
                              from_number="+886912345678", to_number=number, body=long_word,
                              params=json.dumps({"Body": long_word}), reply=long_word)
        InboundMessage.create(sandbox=sandbox, credential=custom, custom_webhook=webhook, source="custom",
                              message_sid=long_name("request-id"), from_number="+886912345678",
                              to_number="+14155550101", body=long_word, params=json.dumps({"text": long_word}))
        consent = Consent.create(sandbox=sandbox, phone_number="+886912345678", state="opted_out")
        ConsentEvent.create(consent=consent, state="opted_out", source=f"{long_word} ({sid})")
        audit.record("update", ApiCredential.get_by_id(credential), {"twilio_webhooks": [
            {"sms_url": url + "/old-inbound", "status_callback": url + "/old-status"},
            {"sms_url": url + "/inbound", "status_callback": url + "/status"}]})
        audit.record("update", ApiCredential.get_by_id(credential), {long_name("field"): [long_word, url]})
        number_id = CredentialNumber.get(CredentialNumber.credential == credential).id
    return {"sandbox": sandbox.id, "credential": credential, "custom": custom.id, "configuration": configuration,
            "webhook": webhook.id, "rule": rule.id, "consent": consent.id, "number": number_id, "message_sid": sid}
