"""A custom provider's header rows: the checks on names and values, and the rows as sent."""
import re

from flask_babel import gettext as _

# RFC 9110's token: what a header name may be (no spaces, colons, CR or LF).
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")  # visible ASCII, spaces and tabs


# Set by the HTTP client for each request, never by hand.
COMPUTED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


MAX_HEADER_NAME = 128


MAX_HEADER_VALUE = 8 * 1024


MAX_HEADER_ROWS = 50  # the admin's own headers, beside Content-Type and the auth type's


def check_header_name(name: str) -> str | None:
    if "\r" in name or "\n" in name:
        return _("A header name cannot contain a line break (CR or LF).")
    if len(name) > MAX_HEADER_NAME:
        return _("A header name has at most %(count)s characters.", count=MAX_HEADER_NAME)
    if not HEADER_NAME.fullmatch(name):
        return _("A header name has only letters, digits and %(symbols)s, with no spaces or colons, "
                 "e.g. X-Request-Id.", symbols="! # $ % & ' * + - . ^ _ ` | ~")
    return None


def check_auth_header_name(name: str, also_set=()) -> str | None:
    """Why the API key's or signature's header can't have this name, or None. `also_set`: the other
    headers the auth type sets itself (e.g. HMAC's timestamp)."""
    problem = check_header_name(name)
    if problem is None and name.lower() in COMPUTED_HEADERS | {"content-type"} | {n.lower() for n in also_set}:
        problem = _("%(name)s is already set by the request; name another header.", name=name)
    return problem


def check_headers(rows, reserved=()) -> list[dict[str, str]]:
    """For each [name, value] row, its problems by field ("name", "value"); {} when it is fine.
    A row with neither name nor value is fine: it is dropped. `reserved` are the header names
    the auth type sets (wizard.providers.custom.auth.auth_header_names). Rows past the
    MAX_HEADER_ROWS-th filled one are refused, each beside its name."""
    reserved = {name.lower() for name in reserved}
    seen, problems, filled = set(), [], 0
    for name, value in rows:
        name, value, found = (name or "").strip(), (value or "").strip(), {}
        if name or value:
            key = name.lower()
            filled += 1
            if filled > MAX_HEADER_ROWS:
                found["name"] = _("A credential sends at most %(count)s headers of its own: remove this row.",
                                  count=MAX_HEADER_ROWS)
            elif not name:
                found["name"] = _("Enter the header's name, or remove the row.")
            elif (problem := check_header_name(name)) is not None:
                found["name"] = problem
            elif key == "content-type":
                found["name"] = _("Content-Type is set from the payload format, with its charset; it is always "
                                  "sent and cannot be set here.")
            elif key in COMPUTED_HEADERS:
                found["name"] = _("%(name)s is set for each request when it is sent.", name=name)
            elif key in reserved:
                found["name"] = _("%(name)s is set by the auth type.", name=name)
            elif key in seen:
                found["name"] = _("%(name)s is already in another row: each header is sent once.", name=name)
            seen.add(key)
            if "\r" in value or "\n" in value:
                found["value"] = _("A header value cannot contain a line break (CR or LF).")
            elif len(value) > MAX_HEADER_VALUE:
                found["value"] = _("A header value has at most 8 KB.")
            elif not HEADER_VALUE.fullmatch(value):
                found["value"] = _("A header value has only printable ASCII characters and spaces.")
        problems.append(found)
    return problems


def header_rows(settings) -> list[tuple[str, str]]:
    """The headers as the form lists them: the fixed Content-Type first, then the admin's rows
    (settings: a ProviderSettings, not imported here: the auth types use this module, the settings them)."""
    return [("Content-Type", settings.content_type)] + [
        (name.strip(), value.strip()) for name, value in settings.headers if (name or "").strip()]
