"""Presets that fill in a custom credential: Twilio's Messages endpoint for RCS."""
from wizard.providers.custom.settings import ProviderSettings

TWILIO_MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json"


def twilio_rcs_preset(account_sid: str, auth_token: str, messaging_service_sid: str,
                      content_sid: str | None = None) -> ProviderSettings:
    """Twilio's Messages endpoint for RCS: the Messaging Service tries the RCS sender in its pool
    first and falls back to SMS. With a Content Template the message is its variable 1 (Twilio
    refuses Body together with ContentVariables)."""
    fields = [("To", "{{toNumber}}"), ("MessagingServiceSid", messaging_service_sid)]
    if content_sid:
        fields += [("ContentSid", content_sid), ("ContentVariables", "{{contentVariables}}")]
    else:
        fields.append(("Body", "{{message}}"))
    return ProviderSettings(
        provider_name="Twilio",
        provider_url=TWILIO_MESSAGES_URL.format(account_sid=account_sid),
        auth_type="basic",
        auth_settings={"basic_username": account_sid},
        auth_secrets={"basic_password": auth_token},
        headers=[],
        payload_format="form",
        payload_template="&".join(f"{name}={value}" for name, value in fields),
    )
