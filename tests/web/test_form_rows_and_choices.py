"""A custom credential's header rows past the limit, an unknown auth type and a bad secondary
Auth Token: each refused with its message beside its field, never dropped silently or a bare 422."""
import html
import json

import pytest

from tests.support.custom_provider import new_data
from tests.support.factories import make_credential
from tests.support.html import field_error, text
from wizard.core.db import database
from wizard.core.models import ApiCredential


def error_of(response, field_id) -> str | None:
    found = field_error(text(response), field_id)
    return html.unescape(found) if found is not None else None


def count(app) -> int:
    with app.app_context(), database.connection_context():
        return ApiCredential.select().count()


def header_rows(count: int) -> dict:
    return {field: value for index in range(count)
            for field, value in ((f"headers-{index}-name", f"X-Header-{index}"),
                                 (f"headers-{index}-value", f"v{index}"))}


@pytest.mark.parametrize("rows", [60, 120])
def test_header_rows_past_fifty_are_refused_beside_each_not_dropped(signed_in, app, provider_endpoint, rows):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, **header_rows(rows)))
    assert response.status_code == 422
    too_many = "A credential sends at most 50 headers of its own: remove this row."
    assert error_of(response, "headers-49-name") is None
    assert error_of(response, "headers-50-name") == too_many
    assert error_of(response, "headers-59-name") == too_many
    assert 'value="X-Header-59"' in text(response)  # what was typed stays
    assert count(app) == 0


def test_fifty_header_rows_are_saved(signed_in, app, provider_endpoint):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, **header_rows(50)))
    assert response.status_code == 303, text(response)
    with app.app_context(), database.connection_context():
        assert len(json.loads(ApiCredential.get().headers)) == 50


@pytest.mark.parametrize("htmx", [False, True])
def test_an_unknown_auth_type_gets_its_message_beside_the_field(signed_in, app, provider_endpoint, htmx):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, auth_type="bogus"),
                              htmx=htmx)
    assert response.status_code == 422
    assert error_of(response, "auth_type") == "Choose an auth type."
    assert 'aria-describedby="auth_type-error"' in text(response)
    assert count(app) == 0


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


def test_a_bad_secondary_token_gets_its_error_beside_its_field(signed_in, app, credential, in_app):
    signed_in.get("/webhooks")
    response = signed_in.post(f"/webhooks/twilio/{credential}/security",
                              {"secondary_auth_token": "nothex", "webhook_log_only": "y"})
    assert response.status_code == 422
    page = text(response)
    assert error_of(response, f"secondary-auth-token-{credential}") == (
        "An Auth Token is 32 hex digits (0-9, a-f); this one has 6 characters.")
    assert "nothex" not in page  # a secret is never sent back
    assert "<details open>" in page  # the section with the error is open
    log_only = page.split(f'id="field-webhook-log-only-{credential}"')[1].split("</div>")[0]
    assert " checked " in log_only or "checked>" in log_only  # what was chosen stays
    with in_app():
        stored = ApiCredential.get_by_id(credential)
        assert stored.secondary_auth_token is None and not stored.webhook_log_only  # nothing was changed


def test_a_good_secondary_token_is_saved(signed_in, app, credential, in_app):
    signed_in.get("/webhooks")
    response = signed_in.post(f"/webhooks/twilio/{credential}/security", {"secondary_auth_token": "d" * 32})
    assert response.status_code == 303
    page = text(signed_in.get("/webhooks"))
    assert "Webhook security of Main Twilio saved." in page and "One is stored; leave blank to keep it." in page
    response = signed_in.post(f"/webhooks/twilio/{credential}/security", {"clear_secondary": "y"})
    with in_app():
        assert ApiCredential.get_by_id(credential).secondary_auth_token is None
