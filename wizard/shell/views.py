"""The shell every page shares: navigation, the home redirect, npm assets, error pages, headers."""
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from wizard.shell.pages import page_path, public, render
from wizard.shell.phones import phone_label

bp = Blueprint("web", __name__)


# The product's navigation, in order. An entry shows once its page exists.
NAVIGATION = [
    ("guided.index", _l("Guided setup")),
    ("credentials.index", _l("API credentials")),
    ("webhooks.index", _l("Webhooks")),
    ("channels.index", _l("Channel configurations")),
    ("events.index", _l("Events")),
    ("health.index", _l("Health")),
    ("consent.index", _l("Consent register")),
    ("sandboxes.index", _l("Sandboxes")),
    ("transfer.index", _l("Export and import")),
    ("practice.index", _l("Practice")),
    ("audit.index", _l("Audit log")),
]


# Front-end packages come from npm (package.json); the app serves these files only.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "pico.min.css": "@picocss/pico/css/pico.min.css",
}


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


bp.add_app_template_filter(phone_label, "phone")  # {{ number | phone }}: +1 415-555-0101 · United States


@bp.app_errorhandler(404)
def not_found(error):
    return render("errors/404.html", "errors/_404.html", status=404)


@bp.app_errorhandler(413)
def too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    current_app.logger.warning("%s refused: the request is larger than %s bytes", request.path, limit)
    return render("errors/too_large.html", "errors/_too_large.html", status=413, limit_kb=limit // 1024)


@bp.app_errorhandler(CSRFError)
def form_expired(error):
    current_app.logger.warning("CSRF check failed on %s: %s", request.path, error.description)
    return render("errors/form_expired.html", "errors/_form_expired.html", status=400)


# Scripts and styles come from our own files only: no inline <script>, style="" or on…=
# handlers, no eval (htmx runs with allowEval and includeIndicatorStyles off, see base.html).
# Pico's icons are data: URLs.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
])


# Files that may be kept in caches; every other answer is made for one person at one moment.
CACHEABLE_ENDPOINTS = {"static", "web.vendor"}


@bp.after_app_request
def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        # Signed-in pages, and forms where secrets are typed, must not be kept by the browser
        # or a proxy (Back after signing out must not show them again).
        response.headers["Cache-Control"] = "no-store"
    # Fragments differ from pages at the same URL: caches must keep them apart.
    response.vary.add("HX-Request")
    return response
