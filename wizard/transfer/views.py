"""Export the current sandbox's configuration to a file, and import such a file into it:
upload -> preview with every secret it needs in one form -> import, all or nothing.

Between the steps the file travels in the form (posted again) and is read and checked again at
each, so nothing the browser sends back is trusted."""
from flask import Blueprint, Response, flash, request, url_for
from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.shell.i18n import joined
from wizard.shell.pages import redirect_to, render
from wizard.transfer import document as export_file
from wizard.transfer.document import BadFile
from wizard.transfer.forms import MAX_FILE, UploadForm, secrets_form_class
from wizard.transfer.importing import run

bp = Blueprint("transfer", __name__, url_prefix="/transfer")


@bp.route("")
def index():
    return render("transfer/index.html", sandbox=current_sandbox(), upload=UploadForm())


@bp.route("/export", methods=["POST"])
def export():
    """The sandbox's configuration as a JSON download; the export is audited."""
    sandbox = current_sandbox()
    text = export_file.dumps(export_file.export(sandbox))
    with database.atomic():
        audit.record("export", sandbox, {"format version": [None, export_file.VERSION]})
    filename = f"sandbox-{''.join(c if c.isalnum() or c in '-_' else '-' for c in sandbox.name)[:60]}.json"
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _uploaded_text(form: UploadForm) -> str:
    """The uploaded file's text; raises BadFile."""
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        raise BadFile(_("Choose the export file to import."))
    data = upload.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise BadFile(_("This file is larger than %(size)s KB: it is no sandbox export.", size=MAX_FILE // 1024))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(_("This file is not UTF-8 text: it is no sandbox export.")) from None


def _preview(text: str, document: dict, outcome, form=None, status=200, **context):
    sandbox = current_sandbox()
    form = form or secrets_form_class(outcome.items)(data={"document": text})
    form.document.data = text
    for item in outcome.items:
        for name, messages in item.secret_errors.items():
            form[name].errors = list(messages)
    return render("transfer/preview.html", "transfer/_preview.html", status=status, sandbox=sandbox,
                  document=document, outcome=outcome, form=form, kind_labels=_kind_labels(), **context)


def _kind_labels() -> dict:
    return {"credential": _("API credential"), "channel": _("Channel configuration"), "webhook": _("Webhook"),
            "keywords": _("Keywords")}


def _refused(upload: UploadForm, problem: str):
    upload.file.errors = [problem]
    return render("transfer/index.html", "transfer/_import.html", status=422, sandbox=current_sandbox(),
                  upload=upload)


@bp.route("/import", methods=["POST"])
def upload():
    """Read the uploaded file and show what importing it would do; nothing is written."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _refused(form, _("The form expired. Choose the file again."))
    try:
        text = _uploaded_text(form)
        document = export_file.read(text)
    except BadFile as error:
        return _refused(form, str(error))
    return _preview(text, document, run(document, current_sandbox()))


@bp.route("/import/apply", methods=["POST"])
def apply():
    """Read the file again, check everything again with the secrets typed, and import it all or nothing."""
    text = request.form.get("document", "")
    upload = UploadForm()
    if len(text.encode("utf-8")) > MAX_FILE:
        return _refused(upload, _("This file is larger than %(size)s KB: it is no sandbox export.",
                                  size=MAX_FILE // 1024))
    try:
        document = export_file.read(text)
    except BadFile as error:
        return _refused(upload, str(error))
    sandbox = current_sandbox()
    planned = run(document, sandbox)
    form = secrets_form_class(planned.items)()
    if not form.validate_on_submit():
        return _preview(text, document, planned, status=422, problem=_("The form expired. Type the secrets again."))
    secrets = {name: field.data or "" for name, field in form._fields.items()
               if name not in ("document", "csrf_token")}
    outcome = run(document, sandbox, secrets=secrets, commit=True)
    if not outcome.ok:
        return _preview(text, document, outcome, form=form, status=422,
                        problem=outcome.failure or _("Nothing was imported: the objects marked below are refused."))
    counts = outcome.counts()
    flash(_("Imported into sandbox %(sandbox)s: %(created)s created, %(updated)s updated, %(unchanged)s left "
            "alone.", sandbox=sandbox.name, created=counts["create"], updated=counts["update"],
            unchanged=counts["unchanged"]), "success")
    services = sorted({item.service for item in outcome.apply_to_twilio()})
    if services:
        flash(_("The webhook URLs are new in this sandbox: on the Webhooks page, Apply to Twilio for Messaging "
                "Service %(services)s.", services=joined(services)), "warning")
    return redirect_to(url_for("transfer.index"))
