"""Sandboxes: named environments; the one chosen in the header scopes every list."""
from flask import Blueprint, abort, flash, g, request, session, url_for
from flask_babel import gettext as _

from wizard import audit
from wizard.db import database
from wizard.forms import SandboxForm
from wizard.models import Sandbox, User
from wizard.web import is_htmx, redirect_to, render, safe_return

bp = Blueprint("sandboxes", __name__, url_prefix="/sandboxes")


def current_sandbox() -> Sandbox:
    """The sandbox this admin works in: the session's choice, else the saved one, else the first."""
    if "sandbox" not in g:
        chosen = session.get("sandbox_id")
        if chosen is None and g.get("user") is not None:
            chosen = g.user.sandbox_id
        g.sandbox = (Sandbox.get_or_none(Sandbox.id == chosen) if chosen else None) or (
            Sandbox.select().order_by(Sandbox.id).first()
        )
    return g.sandbox


def usages(sandbox: Sandbox) -> list[str]:
    """What uses this sandbox, by name: every model with a foreign key to it counts."""
    found = []
    for field, model in Sandbox._meta.backrefs.items():
        if not getattr(model, "counts_as_sandbox_use", True):
            continue
        for row in model.select().where(field == sandbox.id).limit(20):
            found.append(f"{model.kind} “{row}”")
    return found


@bp.app_context_processor
def header_sandboxes():
    if g.get("user") is None:
        return {}
    return {"current_sandbox": current_sandbox(), "all_sandboxes": list(Sandbox.select().order_by(Sandbox.name_key))}


def _list_page(form, status=200):
    rows = list(Sandbox.select().order_by(Sandbox.name_key))
    return render("sandboxes/index.html", "sandboxes/_section.html", status=status, form=form, sandboxes=rows)


@bp.route("", methods=["GET", "POST"])
def index():
    form = SandboxForm()
    if form.validate_on_submit():
        with database.atomic():
            sandbox = Sandbox.create(name=form.name.data, name_key=Sandbox.key_for(form.name.data))
            audit.record("create", sandbox, {"name": [None, sandbox.name]})
        flash(_("Sandbox %(name)s created.", name=sandbox.name), "success")
        return redirect_to(url_for("sandboxes.index"))
    return _list_page(form, status=422 if form.errors else 200)


def _get(sandbox_id) -> Sandbox:
    sandbox = Sandbox.get_or_none(Sandbox.id == sandbox_id)
    if sandbox is None:
        abort(404)
    return sandbox


@bp.route("/<int:sandbox_id>", methods=["GET", "POST"])
def detail(sandbox_id):
    """The sandbox's page, where it is renamed; for htmx, its row in the list."""
    sandbox = _get(sandbox_id)
    form = SandboxForm(sandbox=sandbox, data={"name": sandbox.name})
    if form.validate_on_submit():
        before = sandbox.name
        with database.atomic():
            sandbox.name, sandbox.name_key = form.name.data, Sandbox.key_for(form.name.data)
            sandbox.save()
            audit.record("update", sandbox, audit.diff({"name": before}, {"name": sandbox.name}))
        flash(_("Sandbox renamed to %(name)s.", name=sandbox.name), "success")
        if not is_htmx():
            return redirect_to(url_for("sandboxes.index"))
    # A failed inline rename keeps the row a form, with the error and what was typed.
    fragment = "sandboxes/_row_form.html" if form.errors else "sandboxes/_row.html"
    return render("sandboxes/detail.html", fragment, status=422 if form.errors else 200,
                  also=("_sandbox_switcher.html",), sandbox=sandbox, form=form, used_by=usages(sandbox))


@bp.route("/<int:sandbox_id>/edit")
def edit(sandbox_id):
    """The row as an inline rename form (htmx); without JavaScript, the sandbox's page."""
    sandbox = _get(sandbox_id)
    form = SandboxForm(sandbox=sandbox, data={"name": sandbox.name})
    return render("sandboxes/detail.html", "sandboxes/_row_form.html", sandbox=sandbox, form=form,
                  used_by=usages(sandbox))


@bp.route("/<int:sandbox_id>/delete", methods=["GET", "POST"])
def delete(sandbox_id):
    sandbox = _get(sandbox_id)
    used_by = usages(sandbox)
    refusal = None
    if used_by:
        refusal = _("Sandbox %(name)s is in use and cannot be deleted. Used by: %(users)s.",
                    name=sandbox.name, users=", ".join(used_by))
    elif Sandbox.select().count() <= 1:
        refusal = _("Sandbox %(name)s is the only one; keep at least one sandbox.", name=sandbox.name)
    if request.method == "GET":
        return render("sandboxes/delete.html", sandbox=sandbox, refusal=refusal)
    if refusal:
        flash(refusal, "error")
        return redirect_to(url_for("sandboxes.index"))
    with database.atomic():
        audit.record("delete", sandbox, {"name": [sandbox.name, None]})
        sandbox.delete_instance()
    if session.get("sandbox_id") == sandbox_id:
        session.pop("sandbox_id")
    flash(_("Sandbox %(name)s deleted.", name=sandbox.name), "success")
    return redirect_to(url_for("sandboxes.index"))


@bp.route("/current", methods=["POST"])
def switch():
    """The header's sandbox switcher; the choice is kept in the session and on the account."""
    sandbox = Sandbox.get_or_none(Sandbox.id == request.form.get("sandbox", type=int))
    if sandbox is None:
        flash(_("That sandbox no longer exists."), "error")
    else:
        session["sandbox_id"] = sandbox.id
        User.update(sandbox=sandbox).where(User.id == g.user.id).execute()
        flash(_("You are now working in sandbox %(name)s.", name=sandbox.name), "success")
    return redirect_to(safe_return(request.form.get("next")))
