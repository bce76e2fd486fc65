"""A stored secret is sent only where it was typed for: when the scheme, host or port of the URL
it goes to changes, it must be typed again (issue 11, item 8). The credentials page and the
guided RCS step alike; the local provider answers both as https://127.0.0.1:PORT and as
https://localhost:PORT (its certificate names both), two hosts for the browser's origin rules."""
import html
import json

import pytest

from tests.support.custom_provider import API_KEY, JSON_TEMPLATE, custom_edit_data, make_custom
from tests.support.factories import make_credential
from tests.support.guided import RCS_CONSOLE, start_rcs
from tests.support.html import field_error, text
from tests.support.provider_endpoints import ProviderEndpoint, oauth_token_route
from tests.support.queries import stored

NEW_KEY = "ak-live-0d9c8b7a6f5e4d3c2b1a0f9e"
CLIENT_SECRET = "cs-9a8b7c6d5e4f3a2b1c0d"
TYPE_AGAIN = "Type it again: the Provider URL now points to another host."


def error_of(page: str, field_id: str) -> str:
    return html.unescape(field_error(page, field_id) or "")


def note_of(page: str, field_id: str) -> str:
    """The note shown under a field that is no error (e.g. what saving it will clear)."""
    marker = f'id="{field_id}-note" class="field-note">'
    return html.unescape(page.split(marker, 1)[1].split("<", 1)[0]) if marker in page else ""


@pytest.fixture
def other_endpoint(authority, tmp_path):
    endpoint = ProviderEndpoint(authority, tmp_path / "other").start()
    yield endpoint
    endpoint.stop()


@pytest.mark.parametrize("where", ["host", "port"])
def test_saving_another_origin_with_a_blank_secret_asks_for_it_and_keeps_what_was_typed(
        signed_in, app, provider_endpoint, other_endpoint, where):
    custom = make_custom(app, provider_endpoint)
    new_url = (provider_endpoint.url("/v2/send", host="localhost") if where == "host"
               else other_endpoint.url("/send"))
    signed_in.get(f"/credentials/{custom}")
    response = signed_in.post(f"/credentials/{custom}", custom_edit_data(app, custom, provider_url=new_url,
                                                                          name="Renamed"))
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, "api_key") == TYPE_AGAIN
    assert note_of(page, "provider_url") == ("Another host than before: the stored API key will be cleared, so "
                                             "type it again.")
    assert f'value="{new_url}"' in page and 'value="Renamed"' in page  # what was typed is kept
    assert "A value is stored; leave blank to keep it." not in page
    saved = stored(app, custom)
    assert saved.provider_url == provider_endpoint.url("/send") and saved.secrets == {"api_key": API_KEY}

    response = signed_in.post(f"/credentials/{custom}", custom_edit_data(app, custom, provider_url=new_url,
                                                                          api_key=NEW_KEY))
    assert response.status_code == 303
    saved = stored(app, custom)
    assert saved.provider_url == new_url and saved.secrets == {"api_key": NEW_KEY}


def test_another_path_on_the_same_origin_keeps_the_stored_secret(signed_in, app, provider_endpoint):
    custom = make_custom(app, provider_endpoint)
    signed_in.get(f"/credentials/{custom}")
    response = signed_in.post(f"/credentials/{custom}", custom_edit_data(
        app, custom, provider_url=provider_endpoint.url("/v2/messages?x=1")))
    assert response.status_code == 303
    assert stored(app, custom).secrets == {"api_key": API_KEY}


def test_a_new_token_url_host_asks_for_the_client_secret_again(signed_in, app, provider_endpoint):
    custom = make_custom(app, provider_endpoint, auth_type="oauth2", auth_settings={
        "oauth_token_url": provider_endpoint.url("/oauth/token"), "oauth_client_id": "client-1"},
        auth_secrets={"oauth_client_secret": CLIENT_SECRET})
    signed_in.get(f"/credentials/{custom}")
    response = signed_in.post(f"/credentials/{custom}", custom_edit_data(
        app, custom, oauth_token_url=provider_endpoint.url("/oauth/token", host="localhost")))
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, "oauth_client_secret") == "Type it again: the Token URL now points to another host."
    assert note_of(page, "oauth_token_url") == ("Another host than before: the stored Client secret will be "
                                                "cleared, so type it again.")
    # The access token it buys goes to the provider URL: moving that asks for the client secret too.
    response = signed_in.post(f"/credentials/{custom}", custom_edit_data(
        app, custom, provider_url=provider_endpoint.url("/send", host="localhost")))
    assert response.status_code == 422
    assert error_of(text(response), "oauth_client_secret") == TYPE_AGAIN
    assert stored(app, custom).secrets == {"oauth_client_secret": CLIENT_SECRET}


def test_the_url_check_says_before_saving_which_secrets_will_be_cleared(signed_in, app, provider_endpoint):
    custom = make_custom(app, provider_endpoint)
    signed_in.get(f"/credentials/{custom}")
    data = custom_edit_data(app, custom, provider_url=provider_endpoint.url("/send", host="localhost"))
    response = signed_in.post(f"/credentials/{custom}?_field=provider_url", data, htmx=True)
    assert response.status_code == 200  # a note, not an error: typing the key again saves
    fragment = text(response)
    assert note_of(fragment, "provider_url") == ("Another host than before: the stored API key will be cleared, "
                                                 "so type it again.")
    assert field_error(fragment, "provider_url") is None
    same = signed_in.post(f"/credentials/{custom}?_field=provider_url",
                          custom_edit_data(app, custom, provider_url=provider_endpoint.url("/other")), htmx=True)
    assert note_of(text(same), "provider_url") == ""


def rcs_credential_step(client, app, fake_twilio) -> str:
    twilio = make_credential(app, fake_twilio, name="Twilio prod")
    base = start_rcs(client)
    client.post(f"{base}/register", {"twilio_credential": str(twilio), **RCS_CONSOLE})
    client.post(f"{base}/webhook", {})
    return f"{base}/credential"


def rcs_form(url: str, token: str, **changes) -> dict:
    return {"name": "Local RCS", "provider_name": "Local", "provider_url": url, "auth_type": "bearer",
            "bearer_token": token, "payload_format": "json", "payload_template": JSON_TEMPLATE,
            "test_number": "+14155550123", "test_message": "Hello", **changes}


@pytest.mark.parametrize("detour", [None, "add_header", "auth_fields"])
def test_the_guided_rcs_step_never_sends_the_kept_secret_to_a_new_host(signed_in, app, fake_twilio,
                                                                       provider_endpoint, detour):
    step = rcs_credential_step(signed_in, app, fake_twilio)
    first = provider_endpoint.url("/send")
    response = signed_in.post(step, {**rcs_form(first, API_KEY), "action": "test"})
    assert "200 OK" in text(response)
    assert [r.header("Authorization") for r in provider_endpoint.requests] == [f"Bearer {API_KEY}"]

    moved = provider_endpoint.url("/send", host="localhost")
    if detour:  # a button that keeps what is typed, before the test request
        signed_in.post(step, {**rcs_form(moved, ""), "action": detour})
    response = signed_in.post(step, {**rcs_form(moved, ""), "action": "test"})
    assert response.status_code == 422
    # The detour kept the new URL and cleared the token from the draft: it is simply missing then.
    assert error_of(text(response), "bearer_token") == ("Enter the bearer token." if detour else TYPE_AGAIN)
    response = signed_in.post(step, rcs_form(moved, ""))  # Next
    assert response.status_code == 422
    assert len(provider_endpoint.requests) == 1  # the stored token went nowhere

    response = signed_in.post(step, {**rcs_form(moved, NEW_KEY), "action": "test"})
    assert "200 OK" in text(response)
    assert provider_endpoint.requests[-1].header("Authorization") == f"Bearer {NEW_KEY}"
    assert json.loads(provider_endpoint.requests[-1].body)["text"] == "Hello"


def test_the_guided_rcs_step_keeps_the_secret_for_another_path_on_the_same_host(signed_in, app, fake_twilio,
                                                                                provider_endpoint):
    provider_endpoint.route("/v2/send", oauth_token_route())  # any 200 answer
    step = rcs_credential_step(signed_in, app, fake_twilio)
    signed_in.post(step, {**rcs_form(provider_endpoint.url("/send"), API_KEY), "action": "test"})
    response = signed_in.post(step, {**rcs_form(provider_endpoint.url("/v2/send"), ""), "action": "test"})
    assert "200 OK" in text(response)
    assert [r.header("Authorization") for r in provider_endpoint.requests] == [f"Bearer {API_KEY}"] * 2
