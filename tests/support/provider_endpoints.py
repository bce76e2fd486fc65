"""Local HTTPS servers that stand in for a custom provider's API in tests.

A test certificate authority (made here with `cryptography`) issues the server's certificate
for 127.0.0.1 and localhost; REQUESTS_CA_BUNDLE points at it so that requests trusts it, as
it would a real provider's. Each endpoint records every request exactly as received (method,
path, headers in order, raw body, the client certificate presented) and answers by path:

    provider_endpoint.answer("/send", status=500, body=b"boom", delay=2)
    provider_endpoint.route("/oauth/token", oauth_token_route(expires_in=3600))
    provider_endpoint.requests_to("/send")[0].body

`mtls_endpoint` requires a client certificate signed by `authority`. Servers bind 127.0.0.1
only; every wait is bounded and wakes when the server stops.
"""
import datetime
import ipaddress
import itertools
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"


def _pem_key(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@dataclass
class Authority:
    """A test certificate authority that issues server and client certificates."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, common_name: str, *, server: bool = False, client: bool = False,
              valid_days: int = 2, names=(HOST, "localhost")) -> tuple[str, str]:
        """(certificate PEM, private key PEM) for a fresh key, signed by this authority; a server's
        names the addresses and host names in `names`."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        not_after = now + datetime.timedelta(days=valid_days)
        usages = [oid for oid, wanted in ((ExtendedKeyUsageOID.SERVER_AUTH, server),
                                          (ExtendedKeyUsageOID.CLIENT_AUTH, client)) if wanted]
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                   .issuer_name(self.certificate.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(min(now, not_after) - datetime.timedelta(minutes=5))
                   .not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(name) for name in names]),
                                            critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        return certificate.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_authority(name: str = "Provider test CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    return Authority(key, certificate)


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]  # as received, in order
    body: bytes
    client_certificate: dict | None  # the peer certificate's fields, when one was presented

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    @property
    def header_names(self) -> list[str]:
        return [key for key, _value in self.headers]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"id": "msg-1", "status": "accepted"}'
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "application/json")])
    delay: float = 0  # seconds before answering: a slow provider


def oauth_token_route(expires_in: int | None = 3600) -> Callable[[ReceivedRequest], Answer]:
    """A token endpoint that hands out token-1, token-2, ... one per call."""
    counter = itertools.count(1)

    def issue(request: ReceivedRequest) -> Answer:
        body = {"access_token": f"token-{next(counter)}", "token_type": "Bearer"}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return Answer(200, json.dumps(body).encode(), [("Content-Type", "application/json")])

    return issue


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):
        pass

    def _serve(self):
        endpoint = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        request = ReceivedRequest(self.command, self.path, list(self.headers.items()), body, peer or None)
        with endpoint.lock:
            endpoint._requests.append(request)
            route = endpoint.routes.get(self.path.split("?")[0])
        if route is None:
            answer = Answer(404, b'{"error": "no such path"}')
        else:
            answer = route(request) if callable(route) else route
        if answer.delay and endpoint._stopping.wait(answer.delay):
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, endpoint: "ProviderEndpoint"):
        self.endpoint = endpoint
        super().__init__((HOST, 0), _Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the request's own thread, so a failed one is recorded.
        request.settimeout(5)
        try:
            connection = self.endpoint.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            with self.endpoint.lock:
                self.endpoint.handshake_failures.append(str(error))
            return
        try:
            super().finish_request(connection, client_address)
        except (ssl.SSLError, OSError):
            pass  # the client left (timed out) before the answer
        finally:
            connection.close()


class ProviderEndpoint:
    """An HTTPS server on 127.0.0.1 with a certificate from `authority` for `names`; it records the
    server name (SNI) each TLS client asked for."""

    def __init__(self, authority: Authority, directory: Path, client_authority: Authority | None = None,
                 names=(HOST, "localhost")):
        certificate, key = authority.issue("provider.test", server=True, names=names)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "server.pem").write_text(certificate)
        (directory / "server.key").write_text(key)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(directory / "server.pem", directory / "server.key")
        if client_authority is not None:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(cadata=client_authority.certificate_pem)
        self.server_names: list[str | None] = []
        self.context.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        self.lock = threading.Lock()
        self.routes: dict[str, Answer | Callable[[ReceivedRequest], Answer]] = {"/send": Answer()}
        self.handshake_failures: list[str] = []
        self._requests: list[ReceivedRequest] = []
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    def answer(self, path: str, status: int = 200, body: bytes = b"{}", headers=None, delay: float = 0):
        self.route(path, Answer(status, body, headers if headers is not None else
                                [("Content-Type", "application/json")], delay))

    def route(self, path: str, answer):
        with self.lock:
            self.routes[path] = answer

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self.lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def url(self, path: str = "/send", host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> "ProviderEndpoint":
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()  # wakes answers waiting on their delay
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def authority(tmp_path, monkeypatch) -> Authority:
    """The test CA, trusted by requests as a real provider's would be."""
    ca = make_authority()
    bundle = tmp_path / "provider-ca.pem"
    bundle.write_text(ca.certificate_pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return ca


@pytest.fixture
def provider_endpoint(authority, tmp_path):
    endpoint = ProviderEndpoint(authority, tmp_path / "provider").start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def mtls_endpoint(authority, tmp_path):
    """An endpoint that refuses any client without a certificate signed by `authority`."""
    endpoint = ProviderEndpoint(authority, tmp_path / "mtls", client_authority=authority).start()
    yield endpoint
    endpoint.stop()
