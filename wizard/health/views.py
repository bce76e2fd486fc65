"""The health page: every credential of the sandbox checked live, each check filled in on its own.

The page is a frame of placeholders, sent at once; htmx loads each check from its own URL
(/health/<credential>/<check>), so a slow Twilio holds up only its own checks. Without
JavaScript the frame sends the browser to ?now=1, where every check runs (all at once, each
within HEALTH_CHECK_SECONDS) before the page is sent. `flask --app app health` prints the same."""
import sys

import click
from flask import Blueprint, abort, current_app, request
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l

from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber, Sandbox, utcnow
from wizard.health.checks import (
    FAIL,
    SANDBOX_CHECKS,
    TITLES,
    checks_of,
    credentials_in,
    run_all,
    run_check,
)
from wizard.shell.pages import render

bp = Blueprint("health", __name__, url_prefix="/health", cli_group=None)


LEVELS = {"ok": _l("OK"), "warning": _l("Warning"), "fail": _l("Failed"), "info": _l("Note")}


@bp.app_template_filter("age")
def age(moment) -> str:
    """How long ago (or how far ahead) a UTC time is: "3 hours ago", "in 20 minutes"."""
    return format_timedelta(moment - utcnow(), add_direction=True) if moment else ""


def _seconds() -> int:
    return current_app.config["HEALTH_CHECK_SECONDS"]


def _context(**context) -> dict:
    return {"titles": TITLES, "levels": LEVELS, "checks_of": checks_of, "seconds": _seconds(), **context}


@bp.route("")
def index():
    sandbox = current_sandbox()
    credentials = credentials_in(sandbox)
    outcomes = run_all(credentials, sandbox, _seconds()) if request.args.get("now") else None
    return render("health/index.html", **_context(sandbox=sandbox, credentials=credentials, outcomes=outcomes))


@bp.route("/<int:credential_id>/<check>")
def check(credential_id, check):
    """One check of one credential: the fragment htmx swaps in, or a page of its own."""
    sandbox = current_sandbox()
    credential = ApiCredential.get_or_none(ApiCredential.id == credential_id)
    if credential is None or check not in checks_of(credential):
        abort(404)
    in_sandbox = CredentialNumber.select().where(
        CredentialNumber.credential == credential.id, CredentialNumber.sandbox == sandbox.id).exists()
    if check in SANDBOX_CHECKS and not in_sandbox:
        abort(404)  # these read this sandbox's numbers and events
    outcome = run_check(credential, sandbox, check, _seconds())
    return render("health/check.html", "health/_check.html",
                  **_context(sandbox=sandbox, credential=credential, name=check, outcome=outcome))


@bp.cli.command("health")
@click.option("--sandbox", "sandbox_name", default=None, help="Check this sandbox only (default: every sandbox).")
def health_command(sandbox_name):
    """Run the health page's checks; exit 1 when one failed (for cron or a container health check)."""
    app = current_app._get_current_object()
    base = app.config["PUBLIC_BASE_URL"] or "http://localhost"
    failed = 0
    with app.test_request_context("/health", base_url=base), database.connection_context():
        sandboxes = list(Sandbox.select().order_by(Sandbox.name_key))
        if sandbox_name is not None:
            sandboxes = [s for s in sandboxes if s.name == sandbox_name]
            if not sandboxes:
                click.echo(f"No sandbox is named {sandbox_name}.", err=True)
                sys.exit(2)
        for sandbox in sandboxes:
            credentials = credentials_in(sandbox)
            click.echo(f"Sandbox {sandbox.name}: {len(credentials)} API credentials")
            outcomes = run_all(credentials, sandbox, _seconds())
            for credential in credentials:
                for name in checks_of(credential):
                    outcome = outcomes[(credential.id, name)]
                    failed += outcome.level == FAIL
                    click.echo(f"  {outcome.level.upper():8} {credential.name} · {TITLES[name]}: {outcome.summary}")
    click.echo(f"{failed} checks failed." if failed else "All checks passed.")
    sys.exit(1 if failed else 0)

