"""Custom provider credentials: settings aimed at a local endpoint (tests/support/provider_endpoints.py),
and a credential saved as the page would have saved it."""
import json

from tests.support.queries import sandbox_id, stored
from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber
from wizard.providers.custom.http import send
from wizard.providers.custom.settings import ProviderSettings
from wizard.providers.transport import Transport

TO, FROM = "+14155550123", "+14155550101"
ACCOUNT_SID = "AC" + "1" * 32
SERVICE_SID = "MG" + "2" * 32
PUBLIC_ONLY = "A provider URL must reach the public internet (an operator can allow private addresses with " \
              "ALLOW_PRIVATE_PROVIDER_URLS=1)."


def refused(host: str) -> str:
    """The one message for a refused, unresolvable or unreachable private target."""
    return f"{host} is not a public address that answers. {PUBLIC_ONLY}"


API_KEY = "ak-live-7f3c9e1d5b2a4c6e8f0a1b3c"
JSON_TEMPLATE = '{\n  "from": "{{fromNumber}}",\n  "to": "{{toNumber}}",\n  "text": "{{message}}"\n}'
SENDER = "+14155550101"
NETWORK = Transport(practice=False)  # the network itself: no simulator, no TWILIO_BASE_URL


def settings_for(endpoint, auth_type, auth_settings=None, auth_secrets=None, path="/send", **fields):
    return ProviderSettings(name="Local provider", provider_name="Local", provider_url=endpoint.url(path),
                            auth_type=auth_type, auth_settings=auth_settings or {}, auth_secrets=auth_secrets or {},
                            payload_template=fields.pop("payload_template", JSON_TEMPLATE), **fields)


def send_local(settings, message="Hello", **kwargs):
    return send(settings, TO, FROM, message, allow_private=True, transport=NETWORK, **kwargs)


def oauth_settings(endpoint, **changes):
    fields = {"oauth_token_url": endpoint.url("/oauth/token"), "oauth_client_id": "client id/1",
              "oauth_scope": "messages:send"}
    return settings_for(endpoint, "oauth2", {**fields, **changes}, {"oauth_client_secret": "se:cret&1"})


def make_custom(app, endpoint=None, name="Local provider", numbers=None, **fields) -> int:
    """A saved custom credential with an API key, as the page would have saved it."""
    settings = ProviderSettings(
        name=name, provider_name=fields.pop("provider_name", "Local"),
        provider_url=fields.pop("provider_url", None) or endpoint.url("/send"),
        auth_type=fields.pop("auth_type", "api_key"),
        auth_settings=fields.pop("auth_settings", {"api_key_header": "X-API-Key"}),
        auth_secrets=fields.pop("auth_secrets", {"api_key": API_KEY}),
        headers=fields.pop("headers", [["X-Tenant", "acme"]]),
        payload_format="json", payload_template=fields.pop("payload_template", JSON_TEMPLATE))
    numbers = numbers if numbers is not None else {"prod": SENDER}
    with app.app_context(), database.connection_context(), database.atomic():
        credential = ApiCredential.create(**settings.to_columns(), **fields)
        for sandbox_name, number in numbers.items():
            CredentialNumber.create(credential=credential, sandbox=sandbox_id(app, sandbox_name), phone_number=number)
        return credential.id


def new_data(app, endpoint, **changes) -> dict:
    """The new-credential form as an admin fills it in for the local provider."""
    prod = sandbox_id(app, "prod")
    data = {"name": "Local provider", "provider_name": "Local", "provider_url": endpoint.url("/send"),
            "auth_type": "api_key", "api_key_header": "X-API-Key", "api_key": API_KEY,
            "headers-0-name": "X-Tenant", "headers-0-value": "acme",
            "payload_format": "json", "payload_template": JSON_TEMPLATE,
            f"use_{prod}": "y", f"number_{prod}": SENDER}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def custom_edit_data(app, credential_id, **changes) -> dict:
    """The edit form as the page fills it in (secrets blank), with `changes` typed over it."""
    credential = stored(app, credential_id)
    data = {"name": credential.name, "provider_name": credential.provider_name,
            "provider_url": credential.provider_url, "auth_type": credential.auth_type,
            "payload_format": credential.payload_format, "payload_template": credential.payload_template,
            "version": str(credential.version)}
    data.update(json.loads(credential.auth_settings))
    for index, (name, value) in enumerate(json.loads(credential.headers)):
        data[f"headers-{index}-name"], data[f"headers-{index}-value"] = name, value
    for sandbox_name, number in credential.stored_numbers.items():
        data[f"use_{sandbox_id(app, sandbox_name)}"] = "y"
        data[f"number_{sandbox_id(app, sandbox_name)}"] = number
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
