"""Sandboxes: named environments; the one chosen in the header scopes every list."""
from flask import Blueprint, abort, flash, g, request, session, url_for
from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.context import current_sandbox, use_sandbox
from wizard.core.db import database
from wizard.core.editing import EditConflict, saved_meanwhile, update_unchanged
from wizard.core.ids import row_id
from wizard.core.models import Sandbox
from wizard.sandboxes.forms import PracticeSandboxForm
from wizard.shell.i18n import joined
from wizard.shell.pages import is_htmx, redirect_to, render, safe_return

bp = Blueprint("sandboxes", __name__, url_prefix="/sandboxes")


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
    sandbox = current_sandbox()
    return {"current_sandbox": sandbox, "all_sandboxes": list(Sandbox.select().order_by(Sandbox.name_key)),
            "practice_sandbox": bool(sandbox and sandbox.is_practice)}


def _list_page(form, status=200):
    rows = list(Sandbox.select().order_by(Sandbox.name_key))
    return render("sandboxes/index.html", "sandboxes/_section.html", status=status, form=form, sandboxes=rows)


@bp.route("", methods=["GET", "POST"])
def index():
    form = PracticeSandboxForm()
    if form.validate_on_submit():
        with database.atomic():
            sandbox = Sandbox.create(name=form.name.data, name_key=Sandbox.key_for(form.name.data),
                                     is_practice=form.is_practice.data)
            changes = {"name": [None, sandbox.name]}
            if sandbox.is_practice:
                changes["is_practice"] = [None, True]
            audit.record("create", sandbox, changes)
        flash(_("Sandbox %(name)s created.", name=sandbox.name), "success")
        return redirect_to(url_for("sandboxes.index"))
    return _list_page(form, status=422 if form.errors else 200)


def _get(sandbox_id) -> Sandbox:
    sandbox = Sandbox.get_or_none(Sandbox.id == sandbox_id)
    if sandbox is None:
        abort(404)
    return sandbox


def _form(sandbox) -> PracticeSandboxForm:
    """The rename form as posted (without its version, it can only conflict), or opened at the
    sandbox's current values and version."""
    if request.method == "POST":
        return PracticeSandboxForm(sandbox=sandbox)
    return PracticeSandboxForm(sandbox=sandbox, data={"name": sandbox.name, "is_practice": sandbox.is_practice,
                                                      "version": sandbox.version})


@bp.route("/<int:sandbox_id>", methods=["GET", "POST"])
def detail(sandbox_id):
    """The sandbox's page, where it is renamed; for htmx, its row in the list."""
    sandbox = _get(sandbox_id)
    form = _form(sandbox)
    if form.validate_on_submit():
        before = {"name": sandbox.name, "is_practice": sandbox.is_practice}
        try:
            with database.atomic():
                update_unchanged(form, sandbox, {Sandbox.name: form.name.data,
                                                 Sandbox.name_key: Sandbox.key_for(form.name.data),
                                                 Sandbox.is_practice: form.is_practice.data})
                sandbox.name, sandbox.is_practice = form.name.data, form.is_practice.data
                changes = audit.diff(before, {"name": sandbox.name, "is_practice": sandbox.is_practice})
                audit.record("update", sandbox, changes)
        except EditConflict:
            sandbox = saved_meanwhile(form, sandbox)
            conflict = [(form.name.label.text, sandbox.name),
                        (form.is_practice.label.text, _("yes") if sandbox.is_practice else _("no"))]
            return render("sandboxes/detail.html", "sandboxes/_row_form.html", status=409, sandbox=sandbox,
                          form=form, conflict=conflict, used_by=usages(sandbox))
        if "is_practice" in changes and "name" not in changes:
            flash(_("Sandbox %(name)s is now a practice sandbox: the Twilio simulator answers its Twilio calls.",
                    name=sandbox.name) if sandbox.is_practice else
                  _("Sandbox %(name)s is no longer a practice sandbox: its Twilio calls go to Twilio.",
                    name=sandbox.name), "success")
        else:
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
    form = _form(sandbox)
    return render("sandboxes/detail.html", "sandboxes/_row_form.html", sandbox=sandbox, form=form,
                  used_by=usages(sandbox))


@bp.route("/<int:sandbox_id>/delete", methods=["GET", "POST"])
def delete(sandbox_id):
    sandbox = _get(sandbox_id)
    used_by = usages(sandbox)
    refusal = None
    if used_by:
        refusal = _("Sandbox %(name)s is in use and cannot be deleted. Used by: %(users)s.",
                    name=sandbox.name, users=joined(used_by))
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
    sandbox = Sandbox.get_or_none(Sandbox.id == request.form.get("sandbox", type=row_id))
    if sandbox is None:
        flash(_("That sandbox no longer exists."), "error")
    else:
        use_sandbox(g.user, sandbox)
        flash(_("You are now working in sandbox %(name)s.", name=sandbox.name), "success")
    return redirect_to(safe_return(request.form.get("next")))
