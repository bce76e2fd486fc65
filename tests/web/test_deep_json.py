"""JSON nested deeper than 32 levels (payload templates, JWT claims, webhook samples, the custom
receiver's bodies) is refused with its place, never a RecursionError."""
import html
import json

import pytest

from tests.support.custom_provider import new_data, oauth_settings, send_local
from tests.support.custom_webhooks import inbound_form, make_webhook
from tests.support.factories import make_credential
from tests.support.html import field_error, text
from wizard.providers.custom.settings import ProviderError

PREFIX = '{"to": "{{toNumber}}", "text": "{{message}}", "from": '
DEEP_TEMPLATE = PREFIX + "[" * 40 + '"{{fromNumber}}"' + "]" * 40 + "}"
# The object is level 1: the 32nd [ opens level 33.
DEEP_AT = f"(at line 1, column {len(PREFIX) + 32})"
TOO_DEEP = "The JSON is nested more than 32 levels deep"
ALLOWED = "at most 32 levels of objects and lists are allowed."
# A few kilobytes that Python's own parser can't read without recursing past its limit.
BOMB = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"


def error_of(response, field_id) -> str:
    return html.unescape(field_error(text(response), field_id) or "")


def test_a_payload_template_nested_too_deep_is_refused_beside_its_field(signed_in, app, provider_endpoint):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new",
                              new_data(app, provider_endpoint, payload_template=DEEP_TEMPLATE))
    assert response.status_code == 422
    assert error_of(response, "payload_template") == f"{TOO_DEEP} {DEEP_AT}: {ALLOWED}"
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, payload_template=BOMB))
    assert response.status_code == 422
    assert error_of(response, "payload_template").startswith(f"{TOO_DEEP} (at line 1, column 38)")


def test_jwt_claims_nested_too_deep_are_refused_beside_their_field(signed_in, app, provider_endpoint):
    signed_in.get("/credentials/custom/new")
    data = new_data(app, provider_endpoint, auth_type="jwt", api_key_header=None, api_key=None,
                    jwt_secret="s" * 32, jwt_claims='{"iss": ' + "[" * 4000 + "]" * 4000 + "}")
    response = signed_in.post("/credentials/custom/new", data)
    assert response.status_code == 422
    assert error_of(response, "jwt_claims") == f"{TOO_DEEP} (at line 1, column 40): {ALLOWED}"


def test_a_webhook_sample_nested_too_deep_is_refused_beside_its_field(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential_id, payload=BOMB))
    assert response.status_code == 422
    assert error_of(response, "payload") == f"{TOO_DEEP} (at line 1, column 38): {ALLOWED}"
    assert "[[[[" in text(response)  # what was typed stays


def test_a_body_nested_too_deep_is_400_with_the_reason_for_anyone_with_the_url(app, fake_twilio):
    # Without a shared secret, the key in the URL is all a sender needs.
    webhook = make_webhook(app, make_credential(app, fake_twilio))
    response = app.test_client().post(f"/hooks/custom/{webhook.key}", data=BOMB.encode(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "the JSON is nested deeper than 32 levels (at line 1, column 38)"}


def test_a_body_32_levels_deep_is_read(app, fake_twilio):
    webhook = make_webhook(app, make_credential(app, fake_twilio))
    body = {"event": "message", "message": {"id": "r-1", "text": "HELP", "sentAt": "2024-01-01T12:00:00Z"},
            "from": {"phone": "+14155550123"}, "to": ["+14155550101"], "extra": json.loads("[" * 31 + "]" * 31)}
    response = app.test_client().post(f"/hooks/custom/{webhook.key}", json=body)
    assert response.status_code == 200 and response.get_json()["status"] == "stored"


def test_a_token_endpoint_answer_nested_too_deep_is_no_token(provider_endpoint):
    provider_endpoint.answer("/oauth/token", 200, b'{"access_token": ' + b"[" * 4000 + b"]" * 4000 + b"}")
    with pytest.raises(ProviderError, match="The token endpoint's answer has no access_token"):
        send_local(oauth_settings(provider_endpoint))
