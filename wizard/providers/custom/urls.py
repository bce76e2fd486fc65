"""Provider and token URLs: https only, and (unless the operator allows it) only public addresses,
checked after DNS and again before each send."""
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _

from wizard.providers.custom.errors import ProviderError

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def lookup(host, port, *args, **kwargs):
    """How host names are looked up (socket.getaddrinfo): once per URL, for the check and the
    connection alike (wizard.providers.custom.pinned). Tests stand in for DNS here."""
    return socket.getaddrinfo(host, port, *args, **kwargs)


def unreachable(host: str) -> str:
    """The one message for every refused, unresolvable or unreachable private target: telling them
    apart would let the errors map a private network (which names resolve, which ports answer)."""
    return _("%(host)s is not a public address that answers. A provider URL must reach the public internet (an "
             "operator can allow private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).", host=host)


def is_private(address: str) -> bool:
    """Whether an IP address is anything but a public one: loopback, private, link-local, metadata,
    reserved...; an IPv4-mapped, 6to4 or Teredo address by the IPv4 address it carries."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(inner is not None and is_private(str(inner)) for inner in carried):
            return True
        if ip.ipv4_mapped is not None:
            return False
    return ip in METADATA_ADDRESSES or not ip.is_global or ip.is_multicast or ip.is_reserved


def unparsable(url: str) -> str | None:
    """Why the URL can't even be taken apart (an unclosed [ of an IPv6 address, a port out of
    range), or None."""
    try:
        urlsplit(url).port  # noqa: B018 (reading the port checks its range)
    except ValueError:
        return _("This is not a URL: write it like https://api.example.com/messages.")
    return None


def _syntax_problem(url: str) -> str | None:
    """What is wrong with the URL itself, before any lookup."""
    if not url:
        return _("Enter the URL, e.g. https://api.example.com/messages.")
    if len(url) > 2048:
        return _("A URL has at most 2048 characters.")
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return _("A URL cannot contain spaces or control characters.")
    if problem := unparsable(url):
        return problem
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return _("Use an https:// URL: the request carries secrets that only TLS keeps private.")
    if not parts.hostname:
        return _("The URL has no host name: write it like https://api.example.com/messages.")
    if parts.username is not None or parts.password is not None:
        return _("Leave the user name and password out of the URL: choose the Basic auth type for them.")
    return None


def addresses_of(host: str, port: int) -> list[str]:
    """The IP addresses `host` resolves to, looked up once; ProviderError when it does not resolve."""
    try:
        found = lookup(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ProviderError(unreachable(host)) from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise ProviderError(unreachable(host))
    return addresses


def resolve(url: str, allow_private: bool) -> list[str]:
    """The addresses to connect to for a provider or token URL, each checked: without
    allow_private, every one must be public (requests carry secrets and their answers are
    shown). ProviderError says why the URL can't be used."""
    url = (url or "").strip()
    if problem := _syntax_problem(url):
        raise ProviderError(problem)
    parts = urlsplit(url)
    addresses = addresses_of(parts.hostname, parts.port or 443)
    if not allow_private and any(is_private(address) for address in addresses):
        raise ProviderError(unreachable(parts.hostname))
    return addresses


def check_url(url: str, allow_private: bool) -> str | None:
    """Why a provider or token URL can't be used, or None. Without allow_private its host must
    resolve only to public addresses (looked up now; send() looks up and checks again)."""
    url = (url or "").strip()
    problem = _syntax_problem(url)
    if problem or allow_private:
        return problem
    try:
        resolve(url, allow_private)
    except ProviderError as error:
        return error.message
    return None


def _allow_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return bool(has_app_context() and current_app.config.get("ALLOW_PRIVATE_PROVIDER_URLS"))
