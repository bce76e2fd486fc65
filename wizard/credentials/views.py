"""The API credentials list, a Twilio credential's edit page, and delete."""
import peewee
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.editing import EditConflict, saved_meanwhile
from wizard.core.models import ApiCredential, CredentialNumber, CustomWebhook
from wizard.credentials.blueprint import VENDORS, _get, _links, _sandboxes, bp
from wizard.credentials.custom import _custom_snapshot, custom_facts
from wizard.credentials.custom_views import custom_credential_page
from wizard.credentials.forms import credential_form_class
from wizard.credentials.twilio import (
    _initial,
    configurations_using,
    edit_credential,
    numbers_of,
)
from wizard.providers.twilio.checks import CheckFailed
from wizard.shell.field_check import check_field, checked_field, field_to_check
from wizard.shell.i18n import joined
from wizard.shell.pages import is_htmx, redirect_to, render


def _get_twilio(credential_id) -> ApiCredential:
    credential = _get(credential_id)
    if credential.vendor != "twilio":
        abort(404)
    return credential


@bp.route("")
def index():
    """The credentials that have a number in the current sandbox."""
    sandbox = current_sandbox()
    credentials = list(
        ApiCredential.select().join(CredentialNumber)
        .where(CredentialNumber.sandbox == sandbox).order_by(ApiCredential.name_key).distinct()
    )
    ids = [c.id for c in credentials]
    return render("credentials/index.html", sandbox=sandbox, credentials=credentials, numbers=numbers_of(ids),
                  used_by=configurations_using(ids), vendors=VENDORS, **_links())


CHECKED_FIELDS = ("name", "account_sid", "messaging_service_sid")


@bp.route("/<int:credential_id>", methods=["GET", "POST"])
def detail(credential_id):
    """The credential's page: the edit form. `?_field=` checks one field as the admin leaves it.
    A custom provider's credential has a form of its own (custom_credential_page)."""
    credential = _get(credential_id)
    if credential.vendor == "custom":
        return custom_credential_page(credential)
    sandboxes = _sandboxes()
    form = credential_form_class(sandboxes)(
        credential_id=credential.id, token_stored=True,
        data=None if request.method == "POST" else _initial(credential, sandboxes))
    context = {"credential": credential, "sandboxes": sandboxes, "form": form,
               "token_typed": bool(request.form.get("auth_token"))}
    if request.method == "POST" and field_to_check():
        name, status = check_field(form, {*CHECKED_FIELDS, *(f"number_{s.id}" for s in sandboxes)})
        return checked_field(form, name, status, url_for("credentials.detail", credential_id=credential.id))
    conflict, retry = None, False
    if form.validate_on_submit():
        saved, conflict, retry = _save(form, credential, sandboxes)
        if saved:
            return redirect_to(url_for("credentials.index"))
    status = 409 if conflict else 422 if form.errors else 200
    return render("credentials/detail.html", "credentials/_form.html", status=status, conflict=conflict,
                  conflict_numbers=numbers_of([credential.id]).get(credential.id, []) if conflict else [],
                  retry=retry, used_by=configurations_using([credential.id]).get(credential.id, []),
                  vendors=VENDORS, **context, **_links())


def _save(form, credential: ApiCredential, sandboxes) -> tuple[bool, ApiCredential | None, bool]:
    """Save the edit: (saved, the row as saved meanwhile on a conflict, whether to offer a retry).
    Why it was not saved is on the form."""
    try:
        notes = edit_credential(form, credential, sandboxes)
    except CheckFailed as failure:
        if failure.field in form:
            form[failure.field].errors.append(failure.message)
            return False, None, False
        form.form_errors.append(failure.message)
        return False, None, failure.retry
    except peewee.IntegrityError:
        # Another credential took the name between the check and the save.
        form.name.errors.append(_("An API credential with this name already exists."))
        return False, None, False
    except EditConflict:
        return False, saved_meanwhile(form, credential), False
    if notes is None:
        return False, None, False
    flash(_("API credential %(name)s saved.", name=form.name.data), "success")
    for note in notes:
        flash(note, "warning")
    return True, None, False


def refusal_to_delete(credential: ApiCredential) -> str | None:
    users = [c.name for c in configurations_using([credential.id]).get(credential.id, [])]
    if users:
        return ngettext(
            "API credential %(name)s is used by channel configuration %(users)s and cannot be deleted. "
            "Delete that configuration or give it another credential first.",
            "API credential %(name)s is used by channel configurations %(users)s and cannot be deleted. "
            "Delete those configurations or give them another credential first.",
            len(users), name=credential.name, users=joined(users))
    # A custom provider's webhooks name the credential they belong to; the database keeps it while they do.
    hooks = [w.name for w in CustomWebhook.select().where(CustomWebhook.credential == credential.id)
             .order_by(CustomWebhook.name_key)]
    if hooks:
        return ngettext(
            "API credential %(name)s is used by webhook %(users)s and cannot be deleted. "
            "Delete that webhook or give it another credential first.",
            "API credential %(name)s is used by webhooks %(users)s and cannot be deleted. "
            "Delete those webhooks or give them another credential first.",
            len(hooks), name=credential.name, users=joined(hooks))
    return None


def _deleted_fields(credential: ApiCredential) -> dict:
    """What the audit keeps of a deleted credential: its plain fields, never a secret."""
    if credential.vendor == "custom":
        state = _custom_snapshot(credential, {}, [])
    else:
        state = {"name": credential.name, "account_sid": credential.account_sid,
                 "messaging_service_sid": credential.messaging_service_sid}
    return {name: [value, None] for name, value in state.items() if value not in (None, "", [], {})}


@bp.route("/<int:credential_id>/delete", methods=["GET", "POST"])
def delete(credential_id):
    """GET asks first (no JavaScript); POST deletes, and for htmx the row goes away in place."""
    credential = _get(credential_id)
    refusal = refusal_to_delete(credential)
    if request.method == "GET":
        return render("credentials/delete.html", credential=credential, refusal=refusal)
    if refusal is None:
        try:
            with database.atomic():
                audit.record("delete", credential, _deleted_fields(credential),
                             secret_fields=ApiCredential.SECRET_FIELDS)
                CredentialNumber.delete().where(CredentialNumber.credential == credential.id).execute()
                credential.delete_instance()
        except peewee.IntegrityError:
            # A channel configuration started using it between the check and the delete.
            refusal = refusal_to_delete(credential)
    if refusal:
        flash(refusal, "error")
    else:
        flash(_("API credential %(name)s deleted.", name=credential.name), "success")
    if not is_htmx():
        return redirect_to(url_for("credentials.index"))
    if refusal:
        ids = [credential.id]
        return render("credentials/index.html", "credentials/_row.html", status=409, credential=credential,
                      numbers=numbers_of(ids), used_by=configurations_using(ids), vendors=VENDORS, **_links())
    return render("credentials/index.html", "credentials/_no_row.html")


@bp.context_processor
def list_helpers():
    return {"custom_facts": custom_facts}
