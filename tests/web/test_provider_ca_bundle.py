"""Issue 12 item 11: providers whose certificates come from a private CA. PROVIDER_CA_BUNDLE names a
CA bundle trusted for custom-provider requests (OAuth token requests too) and nothing else; a missing
or unreadable bundle stops the start; a certificate failure names the setting."""
import html

import pytest

from tests.support.custom_provider import make_custom
from tests.support.html import text
from tests.support.provider_endpoints import ProviderEndpoint, make_authority, oauth_token_route
from tests.support.queries import stored
from wizard.core.settings import from_environment

HINT = ("If the provider's certificate comes from a private CA, the CA bundle named by the setting "
        "PROVIDER_CA_BUNDLE must include that CA.")


@pytest.fixture
def private_ca(tmp_path):
    """A provider on 127.0.0.1 whose certificate a private CA issued (not in REQUESTS_CA_BUNDLE),
    and that CA's certificate in a file."""
    authority = make_authority("Acme private CA")
    endpoint = ProviderEndpoint(authority, tmp_path / "private").start()
    bundle = tmp_path / "acme-ca.pem"
    bundle.write_text(authority.certificate_pem)
    yield endpoint, bundle
    endpoint.stop()


def send_test(client, credential_id):
    client.get(f"/credentials/{credential_id}/test")
    return html.unescape(text(client.post(f"/credentials/{credential_id}/test",
                                       {"number": "+14155550123", "message": "Hi"})))


def test_a_private_ca_certificate_fails_naming_the_setting_then_passes_with_it(signed_in, app, private_ca):
    endpoint, bundle = private_ca
    endpoint.answer("/send", 202, b'{"queued": true}')
    credential = make_custom(app, endpoint, name="Acme")
    page = send_test(signed_in, credential)
    assert "The TLS connection to 127.0.0.1 failed: [SSL: CERTIFICATE_VERIFY_FAILED]" in page
    assert HINT in page
    assert stored(app, credential).verification_error.endswith(HINT)
    assert endpoint.requests == []

    app.config["PROVIDER_CA_BUNDLE"] = str(bundle)
    page = send_test(signed_in, credential)
    assert "202" in page and HINT not in page
    assert stored(app, credential).verification_state == "verified"
    assert len(endpoint.requests_to("/send")) == 1


def test_the_bundle_is_used_for_oauth_token_requests_too(signed_in, app, private_ca):
    endpoint, bundle = private_ca
    endpoint.route("/oauth/token", oauth_token_route())
    endpoint.answer("/send", 200, b'{"id": "1"}')
    app.config["PROVIDER_CA_BUNDLE"] = str(bundle)
    credential = make_custom(app, endpoint, name="Acme OAuth", auth_type="oauth2",
                             auth_settings={"oauth_token_url": endpoint.url("/oauth/token"),
                                            "oauth_client_id": "acme", "oauth_scope": ""},
                             auth_secrets={"oauth_client_secret": "s3cret"})
    page = send_test(signed_in, credential)
    assert "200" in page, page[-2000:]
    assert len(endpoint.requests_to("/oauth/token")) == 1 and len(endpoint.requests_to("/send")) == 1


def test_a_missing_or_unreadable_bundle_stops_the_start(tmp_path):
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(SystemExit) as stopped:
        from_environment(str(tmp_path), environ={"PROVIDER_CA_BUNDLE": str(missing)})
    assert str(stopped.value) == (f"PROVIDER_CA_BUNDLE names {missing}, which can't be read: No such file or "
                                  "directory. Set it to a PEM file of CA certificates, or unset it.")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(SystemExit) as stopped:
        from_environment(str(tmp_path), environ={"PROVIDER_CA_BUNDLE": str(garbage)})
    assert str(stopped.value) == (f"PROVIDER_CA_BUNDLE names {garbage}, which holds no PEM CA certificate. Set it "
                                  "to a PEM file of CA certificates, or unset it.")


def test_a_readable_bundle_is_the_setting(tmp_path, private_ca):
    _endpoint, bundle = private_ca
    assert from_environment(str(tmp_path), environ={"PROVIDER_CA_BUNDLE": str(bundle)})["PROVIDER_CA_BUNDLE"] == \
        str(bundle)
    assert from_environment(str(tmp_path), environ={})["PROVIDER_CA_BUNDLE"] == ""
