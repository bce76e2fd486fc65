"""Provider and token URLs: https only, and (unless the operator allows it) only public addresses,
checked after DNS and again before each send."""
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def _forbidden_kind(address) -> str | None:
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return _("the cloud metadata address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_unspecified:
        return _("an unspecified address")
    if address.is_private:
        return _("a private address")
    if address.is_multicast:
        return _("a multicast address")
    if address.is_reserved or not address.is_global:
        return _("a reserved address")
    return None


def unparsable(url: str) -> str | None:
    """Why the URL can't even be taken apart (an unclosed [ of an IPv6 address, a port out of
    range), or None."""
    try:
        urlsplit(url).port  # noqa: B018 (reading the port checks its range)
    except ValueError:
        return _("This is not a URL: write it like https://api.example.com/messages.")
    return None


def check_url(url: str, allow_private: bool) -> str | None:
    """Why a provider or token URL can't be used, or None. Without allow_private its host must
    resolve only to public addresses: requests carry secrets and their answers are shown."""
    url = (url or "").strip()
    if not url:
        return _("Enter the URL, e.g. https://api.example.com/messages.")
    if len(url) > 2048:
        return _("A URL has at most 2048 characters.")
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return _("A URL cannot contain spaces or control characters.")
    problem = unparsable(url)
    if problem:
        return problem
    parts = urlsplit(url)
    port = parts.port
    if parts.scheme.lower() != "https":
        return _("Use an https:// URL: the request carries secrets that only TLS keeps private.")
    if not parts.hostname:
        return _("The URL has no host name: write it like https://api.example.com/messages.")
    if parts.username is not None or parts.password is not None:
        return _("Leave the user name and password out of the URL: choose the Basic auth type for them.")
    if allow_private:
        return None
    host = parts.hostname
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return _("The host name %(host)s could not be resolved: %(reason)s.", host=host, reason=reason)
    for *_info, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        kind = _forbidden_kind(ip)
        if kind and host.strip("[]") == address[0]:
            return _("%(address)s is %(kind)s. A provider URL must reach the public internet (an operator can allow "
                     "private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).", address=address[0], kind=kind)
        if kind:
            return _("%(host)s resolves to %(address)s, %(kind)s. A provider URL must reach the public internet "
                     "(an operator can allow private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).",
                     host=host, address=str(ip), kind=kind)
    return None


def _allow_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return bool(has_app_context() and current_app.config.get("ALLOW_PRIVATE_PROVIDER_URLS"))
