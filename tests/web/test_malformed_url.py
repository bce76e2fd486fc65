"""A provider URL that can't even be taken apart (an unclosed IPv6 bracket, a port out of range)
gets the URL field's message: beside the field, and in the request preview instead of a crash."""
import html

import pytest

from tests.support.custom_provider import new_data
from tests.support.html import field_error, text

NOT_A_URL = "This is not a URL: write it like https://api.example.com/messages."
MALFORMED = ["https://[::1/x", "https://[::1]:99999/x"]


@pytest.mark.parametrize("url", MALFORMED)
def test_the_preview_of_a_malformed_url_says_what_is_wrong(signed_in, app, provider_endpoint, url):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, provider_url=url,
                                                                  action="preview"), htmx=True)
    assert response.status_code == 200
    fragment = html.unescape(text(response))
    assert fragment.lstrip().startswith('<section id="request-preview"')
    assert f'<p class="warning">The provider URL cannot be used: {NOT_A_URL}</p>' in fragment
    assert "HTTP/1.1" not in fragment
    # Without JavaScript, the Preview button shows the same on the page.
    page = html.unescape(text(signed_in.post("/credentials/custom/new", new_data(
        app, provider_endpoint, provider_url=url, action="preview"))))
    assert "<html" in page and f"The provider URL cannot be used: {NOT_A_URL}" in page


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_gets_its_error_beside_the_field(signed_in, app, provider_endpoint, url):
    signed_in.get("/credentials/custom/new")
    checked = signed_in.post("/credentials/custom/new?_field=provider_url",
                             new_data(app, provider_endpoint, provider_url=url), htmx=True)
    assert checked.status_code == 422
    assert html.unescape(field_error(text(checked), "provider_url")) == NOT_A_URL
    saved = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, provider_url=url))
    assert saved.status_code == 422
    assert html.unescape(field_error(text(saved), "provider_url")) == NOT_A_URL
    assert f'value="{html.escape(url)}"' in text(saved)  # what was typed stays
