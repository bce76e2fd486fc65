"""Ids and page numbers too large for the database: a 404, the first page or an absent value,
never an error (SQLite and PostgreSQL stop at 2**63 - 1)."""
import re

import pytest

from tests.support.channels import form_data
from tests.support.custom_webhooks import inbound_form
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.html import field_error, text

HUGE = "99999999999999999999"  # 20 digits: more than any database integer


# Every route with an id in its path.
ID_ROUTES = [
    ("GET", f"/credentials/{HUGE}"),
    ("GET", f"/credentials/{HUGE}/verify"),
    ("GET", f"/credentials/{HUGE}/messages/SM{'0' * 32}"),
    ("GET", f"/credentials/{HUGE}/test"),
    ("GET", f"/credentials/{HUGE}/delete"),
    ("POST", f"/credentials/{HUGE}/delete"),
    ("GET", f"/sandboxes/{HUGE}"),
    ("GET", f"/sandboxes/{HUGE}/edit"),
    ("GET", f"/sandboxes/{HUGE}/delete"),
    ("GET", f"/admins/{HUGE}/delete"),
    ("GET", f"/setup/sms/done/{HUGE}"),
    ("GET", f"/channels/{HUGE}"),
    ("POST", f"/channels/{HUGE}/duplicate"),
    ("GET", f"/channels/{HUGE}/delete"),
    ("GET", f"/webhooks/custom/{HUGE}"),
    ("GET", f"/webhooks/custom/{HUGE}/delete"),
    ("GET", f"/webhooks/twilio/{HUGE}/apply"),
    ("POST", f"/webhooks/twilio/{HUGE}/security"),
    ("GET", f"/consent/{HUGE}"),
    ("GET", f"/practice/{HUGE}/reset"),
    ("GET", f"/events/waiting?credential={HUGE}"),
]


@pytest.mark.parametrize("method, url", ID_ROUTES)
def test_an_id_too_large_for_the_database_is_page_not_found(signed_in, method, url):
    response = signed_in.get(url) if method == "GET" else signed_in.post(url, {})
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in text(response)


def main_of(response) -> str:
    """The page's own content, without the header (whose forms name the current URL)."""
    return re.search(r"<main.*</main>", text(response), re.S).group(0)


@pytest.mark.parametrize("url", ["/audit", "/consent", "/events"])
def test_a_page_number_too_large_is_page_not_found(signed_in, url):
    response = signed_in.get(f"{url}?page={HUGE}")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in text(response)


@pytest.mark.parametrize("url", ["/audit", "/consent"])
@pytest.mark.parametrize("page", ["0", "-3", "x", "١"])
def test_a_page_argument_that_is_no_page_number_shows_the_first_page(signed_in, url, page):
    signed_in.post("/sandboxes", {"name": "staging"}, follow_redirects=True)  # an audit entry on the first page
    response = signed_in.get(f"{url}?page={page}")
    assert response.status_code == 200
    assert main_of(response) == main_of(signed_in.get(url))


@pytest.mark.parametrize("url, same_as", [
    (f"/audit?object_type=Sandbox&object_id={HUGE}", "/audit?object_type=Sandbox"),
    (f"/events?credential={HUGE}", "/events"),
    (f"/keywords?credential={HUGE}", "/keywords"),
])
def test_a_filter_with_an_id_too_large_is_read_as_absent(signed_in, url, same_as):
    signed_in.post("/sandboxes", {"name": "staging"}, follow_redirects=True)
    response = signed_in.get(url)
    assert response.status_code == 200
    assert main_of(response) == main_of(signed_in.get(same_as))


def test_the_sandbox_switcher_with_an_id_too_large_says_the_sandbox_is_gone(signed_in):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes/current", {"sandbox": HUGE, "next": "/sandboxes"}, follow_redirects=True)
    assert response.status_code == 200
    assert "That sandbox no longer exists." in text(response)


def test_a_form_choosing_a_credential_id_too_large_shows_the_error_beside_the_field(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio)
    signed_in.get("/channels/new")
    response = signed_in.post("/channels/new", form_data(HUGE))
    assert response.status_code == 422
    assert field_error(text(response), "credential") == "That API credential no longer exists. Choose another one."
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(HUGE))
    assert response.status_code == 422
    assert field_error(text(response), "credential") == "That API credential no longer exists. Choose another one."


def test_an_edit_form_opened_at_a_version_too_large_is_an_edit_conflict(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    configuration_id = make_channel_configuration(app, credential_id)
    signed_in.get(f"/channels/{configuration_id}")
    response = signed_in.post(f"/channels/{configuration_id}", form_data(credential_id, name="Marketing_SMS",
                                                                         version=HUGE))
    assert response.status_code == 409
    assert "Someone else saved this channel configuration while you were editing it." in text(response)


@pytest.mark.parametrize("number", [str(2**31), str(2**63 - 1), str(2**63)])
@pytest.mark.parametrize("url", ["/credentials/{}", "/channels/{}", "/sandboxes/{}",
                                 "/audit?object_type=Sandbox&object_id={}"])
def test_ids_past_a_32_bit_column_are_no_row_on_either_database(signed_in, url, number):
    response = signed_in.get(url.format(number))
    assert response.status_code == (200 if "audit" in url else 404)
