"""The custom-provider client connects to the address it checked (issue 11, item 21): a host name is
looked up once, through wizard.providers.custom.urls.lookup, where these tests stand in for DNS; the
connection goes to that answer, never to a later one (DNS rebinding), while TLS and the Host header
keep the name. Refused and unreachable private targets all get one message, so that the errors
can't map a private network. Every server here listens on 127.0.0.1."""
import socket

import pytest

from tests.support.custom_provider import refused, send_local, settings_for
from tests.support.provider_endpoints import ProviderEndpoint
from wizard.providers.custom import urls
from wizard.providers.custom.settings import ProviderError
from wizard.providers.custom.urls import check_url


class FakeDns:
    """Stands in for DNS (socket.getaddrinfo's signature): each name's answers, one per lookup,
    the last one repeated; other names are not found. It counts the lookups."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers, self.lookups = answers, []

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        seen = self.lookups.count(host)
        address = self.answers[host][min(seen, len(self.answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def dns(monkeypatch):
    def install(answers):
        fake = FakeDns(answers)
        monkeypatch.setattr(urls, "lookup", fake, raising=False)
        return fake
    return install


def test_a_name_rebound_to_loopback_after_the_check_never_reaches_the_loopback_server(dns, provider_endpoint):
    # The check's answer is an allowed address (private ones are allowed here, as in the tests'
    # config) where nothing listens; any later lookup says 127.0.0.1, where the server listens.
    fake = dns({"localhost": ["127.0.0.2", "127.0.0.1"]})
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    settings.provider_url = provider_endpoint.url("/send", host="localhost")
    with pytest.raises(ProviderError) as raised:
        send_local(settings)
    assert raised.value.message == refused("localhost")
    assert provider_endpoint.requests == [] and provider_endpoint.server_names == []
    assert fake.lookups == ["localhost"]  # looked up once, for the check and the connection alike


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept_for_tls_and_host(
        dns, authority, tmp_path):
    # The certificate names only localhost: verifying it against the address would fail.
    endpoint = ProviderEndpoint(authority, tmp_path / "named", names=("localhost",)).start()
    try:
        dns({"localhost": ["127.0.0.1"]})
        settings = settings_for(endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
        settings.provider_url = endpoint.url("/send", host="localhost")
        answer = send_local(settings)
        assert answer.status == 200
        [received] = endpoint.requests
        assert received.header("Host") == f"localhost:{endpoint.port}"
        assert endpoint.server_names == ["localhost"]
    finally:
        endpoint.stop()


def test_the_certificate_is_checked_against_the_host_name_not_the_address(dns, authority, tmp_path):
    endpoint = ProviderEndpoint(authority, tmp_path / "by-address", names=("127.0.0.1",)).start()
    try:
        dns({"localhost": ["127.0.0.1"]})
        settings = settings_for(endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
        settings.provider_url = endpoint.url("/send", host="localhost")
        with pytest.raises(ProviderError) as raised:
            send_local(settings)
        assert "Hostname mismatch, certificate is not valid for 'localhost'" in raised.value.message
        assert endpoint.requests == []
    finally:
        endpoint.stop()


@pytest.mark.parametrize("url, host, answers", [
    ("https://127.0.0.1/send", "127.0.0.1", {}),
    ("https://10.1.2.3/send", "10.1.2.3", {}),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254", {}),
    ("https://[fd00:ec2::254]/", "fd00:ec2::254", {}),
    ("https://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1", {}),
    ("https://0.0.0.0/", "0.0.0.0", {}),
    ("https://224.0.0.1/", "224.0.0.1", {}),
    ("https://api.example.com/send", "api.example.com", {"api.example.com": ["10.0.0.8"]}),
    ("https://api.example.com:22/send", "api.example.com", {"api.example.com": ["127.0.0.1"]}),
    ("https://unknown.example.com/send", "unknown.example.com", {}),
    # 6to4 and Teredo addresses that carry a private IPv4 address inside.
    ("https://[2002:c0a8:101::1]/", "2002:c0a8:101::1", {}),
    ("https://[2002:7f00:1::1]/", "2002:7f00:1::1", {}),
    ("https://sixtofour.example.com/", "sixtofour.example.com", {"sixtofour.example.com": ["2002:a00:1::1"]}),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "2001:0:4136:e378:8000:63bf:80ff:fffe", {}),
])
def test_every_refused_target_gets_the_same_message(dns, url, host, answers):
    dns(answers)
    assert check_url(url, allow_private=False) == refused(host)


def test_a_6to4_address_of_a_public_ipv4_address_is_allowed(dns):
    dns({"api.example.com": ["2002:808:808::1"]})  # 8.8.8.8 inside
    assert check_url("https://api.example.com/send", allow_private=False) is None


def test_an_unreachable_private_target_gets_the_same_message_as_a_refused_one(dns, provider_endpoint):
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    provider_endpoint.stop()
    try:
        with pytest.raises(ProviderError) as raised:
            send_local(settings)  # private targets allowed, as in the tests' config
        assert raised.value.message == refused("127.0.0.1")
        dns({})
        settings.provider_url = "https://nowhere.example.com/send"
        with pytest.raises(ProviderError) as raised:
            send_local(settings)
        assert raised.value.message == refused("nowhere.example.com")
    finally:
        provider_endpoint.start()  # for the fixture's own stop
