"""The shell every page shares: page-or-fragment rendering, navigation, errors, assets."""
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from htmx_flask import request as htmx_request

bp = Blueprint("web", __name__)

# The product's navigation, in order. An entry shows once its page exists.
NAVIGATION = [
    ("guided.index", _l("Guided setup")),
    ("credentials.index", _l("API credentials")),
    ("webhooks.index", _l("Webhooks")),
    ("channels.index", _l("Channel configurations")),
    ("events.index", _l("Events")),
    ("consent.index", _l("Consent register")),
    ("sandboxes.index", _l("Sandboxes")),
    ("practice.index", _l("Practice")),
    ("audit.index", _l("Audit log")),
]

# Front-end packages come from npm (package.json); the app serves these files only.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "pico.min.css": "@picocss/pico/css/pico.min.css",
}


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
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def public_url(path: str) -> str:
    """Where a provider (Twilio or another) must call: PUBLIC_BASE_URL when set, else this
    request's own origin."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
    return base + path


def safe_return(target: str | None) -> str:
    """Only ever go back to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def page_path() -> str:
    """The path of the page in the browser: for htmx, the page the fragment lands in."""
    if htmx_request.htmx and htmx_request.htmx.current_url:
        url = urlsplit(htmx_request.htmx.current_url)
        return safe_return(url.path + (f"?{url.query}" if url.query else ""))
    return request.full_path.rstrip("?")


@bp.app_context_processor
def navigation():
    views = current_app.view_functions
    return {
        "navigation": [(endpoint, label) for endpoint, label in NAVIGATION if endpoint in views],
        "page_path": page_path,
    }


@bp.route("/")
def home():
    """Start where the work is: the first section of the navigation that exists."""
    endpoint, _label = navigation()["navigation"][0]
    return redirect(url_for(endpoint))


@bp.route("/vendor/<name>")
@public
def vendor(name):
    if name not in VENDOR_FILES:
        abort(404)
    folder = Path(current_app.root_path) / "node_modules"
    relative = VENDOR_FILES[name]
    if not (folder / relative).is_file():
        current_app.logger.error("%s is missing: run scripts/setup (npm ci) first", relative)
        abort(404)
    return send_from_directory(folder, relative, max_age=3600)


@bp.app_errorhandler(404)
def not_found(error):
    return render("errors/404.html", "errors/_404.html", status=404)


@bp.app_errorhandler(CSRFError)
def form_expired(error):
    current_app.logger.warning("CSRF check failed on %s: %s", request.path, error.description)
    return render("errors/form_expired.html", "errors/_form_expired.html", status=400)


@bp.after_app_request
def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Fragments differ from pages at the same URL: caches must keep them apart.
    response.vary.add("HX-Request")
    return response
