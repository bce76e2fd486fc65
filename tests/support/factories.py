"""Objects as the app would have saved them, for tests that start past the guided flow."""
from wizard.core.db import database
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    CredentialNumber,
    Sandbox,
)


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
