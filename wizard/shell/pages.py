"""Page or fragment: the helpers every view uses to answer a browser or htmx, and to find a
sandbox's object."""
import re
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from htmx_flask import make_response as htmx_response
from htmx_flask import request as htmx_request
from werkzeug.urls import iri_to_uri

from wizard.core.context import current_sandbox
from wizard.shell.fields import CONTROL_CHARACTERS


def public(view):
    """Mark a view as open without signing in (login, first run, webhook receivers)."""
    view.is_public = True
    return view


def webhook(view):
    """Mark a provider-facing receiver: no sign-in and no CSRF token, its own signature check instead."""
    view.is_webhook = True
    return view


def is_htmx() -> bool:
    """An htmx request that wants a fragment (boosted requests want the whole page)."""
    return bool(htmx_request.htmx) and not htmx_request.htmx.boosted


def render(template: str, fragment: str | None = None, status: int = 200, also=(), **context):
    """One URL, two answers: the whole page, or for htmx just the fragment it swaps.

    A fragment carries any flash messages out of band into the page's message area,
    and so do the page parts named in `also` that the change made stale.
    """
    if fragment and is_htmx():
        parts = [render_template(fragment, **context)]
        parts += [render_template(name, oob=True, **context) for name in ("_flashes.html", *also)]
        return "".join(parts), status
    return render_template(template, **context), status


def redirect_to(target: str):
    """Post/Redirect/Get; htmx is told to load the page instead of swapping a fragment."""
    if htmx_request.htmx:
        return htmx_response("", 204, redirect=target)
    return redirect(target, code=303)


def public_url(path: str) -> str:
    """Where a provider (Twilio or another) must call: PUBLIC_BASE_URL when set, else this
    request's own origin."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
    return base + path


# What a browser drops from a URL before reading it (the WHATWG URL standard): C0 controls and
# spaces at either end, and tabs and newlines anywhere. A backslash it reads as a slash.
URL_ENDS = "".join(chr(c) for c in range(0x21))


URL_TABS_AND_NEWLINES = re.compile(r"[\t\n\r]")


def safe_return(target: str | None) -> str:
    """Only ever go back to a path on this site (the `next` of sign-in and of the switchers).

    The target is first normalised as a browser would read it (so "/<tab>/evil.example" is
    "//evil.example", another site), then checked; what is returned is that checked value,
    non-ASCII characters and spaces percent-encoded as they go into a Location header."""
    path = URL_TABS_AND_NEWLINES.sub("", target or "").strip(URL_ENDS).replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or CONTROL_CHARACTERS.search(path):
        return "/"
    try:
        return iri_to_uri(path)
    except UnicodeError:  # a lone surrogate, say: no page of ours
        return "/"


def page_path() -> str:
    """The path of the page in the browser: for htmx, the page the fragment lands in."""
    if htmx_request.htmx and htmx_request.htmx.current_url:
        url = urlsplit(htmx_request.htmx.current_url)
        return safe_return(url.path + (f"?{url.query}" if url.query else ""))
    return request.full_path.rstrip("?")


def get_here(model, object_id, list_endpoint: str):
    """A configuration object of the current sandbox by id: 404 when there is none, and one of
    another sandbox leads back to the list saying where it is (every page is per sandbox, as
    every list is, or switching would show another sandbox's work)."""
    found = model.get_or_none(model.id == object_id)
    if found is None:
        abort(404)
    if found.sandbox_id != current_sandbox().id:
        flash(_("%(kind)s %(name)s belongs to sandbox %(sandbox)s. Switch to that sandbox to open it.",
                kind=model.kind, name=found.name, sandbox=found.sandbox.name), "error")
        abort(redirect_to(url_for(list_endpoint)))
    return found
