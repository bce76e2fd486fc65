"""The custom-provider credential pages: create, edit, Send test request."""
import peewee
from flask import abort, flash, request, url_for
from flask_babel import gettext as _

from wizard.core.context import current_sandbox
from wizard.core.editing import EditConflict, saved_meanwhile
from wizard.core.models import ApiCredential
from wizard.credentials.blueprint import VENDORS, _get, _links, _sandboxes, bp
from wizard.credentials.custom import (
    EXAMPLE_TEMPLATE,
    create_custom_credential,
    edit_custom_credential,
    preview_request,
    send_test_request,
    sender_number,
    stored_secrets,
    stored_urls,
    with_header_rows_changed,
)
from wizard.credentials.custom_forms import (
    CUSTOM_SECRET_FIELDS,
    custom_credential_data,
    custom_form_class,
)
from wizard.credentials.forms import SmsTestForm
from wizard.credentials.twilio import configurations_using, numbers_of
from wizard.providers.custom.settings import ProviderSettings
from wizard.shell.field_check import check_field, checked_field, field_to_check
from wizard.shell.pages import redirect_to, render


def _custom_form(sandboxes, credential: ApiCredential | None, **kwargs):
    form = custom_form_class(sandboxes)(credential_id=credential.id if credential else None,
                                        stored_secrets=stored_secrets(credential),
                                        stored_urls=stored_urls(credential), **kwargs)
    for sandbox in sandboxes:
        # A custom provider sends from this number; "incoming" is the Twilio credential's word.
        form[f"number_{sandbox.id}"].label.text = _("Sender number for %(name)s", name=sandbox.name)
    return form


def _custom_initial(credential: ApiCredential, sandboxes) -> dict:
    data = custom_credential_data(ProviderSettings.from_credential(credential))
    data["version"] = str(credential.version)
    numbers = credential.numbers_by_sandbox()
    for sandbox in sandboxes:
        data[f"use_{sandbox.id}"] = sandbox.id in numbers
        data[f"number_{sandbox.id}"] = numbers.get(sandbox.id, "")
    return data


def _new_custom_data(name: str) -> dict:
    """A new credential: the name typed in the SMS flow's vendor step, if any, used in this sandbox."""
    return {"name": name, "payload_template": EXAMPLE_TEMPLATE, f"use_{current_sandbox().id}": True}




def _custom_page(form, credential: ApiCredential | None, sandboxes, status=200,
                 fragment="credentials/custom/_form.html", preview=True, **context):
    action_url = (url_for("credentials.detail", credential_id=credential.id) if credential
                  else url_for("credentials.new_custom"))
    if preview:
        context.update(preview_request(form, sandboxes))
    used_by = configurations_using([credential.id]).get(credential.id, []) if credential else []
    return render("credentials/custom/detail.html" if credential else "credentials/custom/new.html", fragment,
                  status=status, form=form, credential=credential, sandboxes=sandboxes, step_url=action_url,
                  used_by=used_by, vendors=VENDORS,
                  # Typed secrets are never sent back: their fields ask for them again.
                  typed_secrets=[name for name in CUSTOM_SECRET_FIELDS if request.form.get(name)],
                  **context, **_links())


def custom_credential_page(credential: ApiCredential | None):
    """Create (credential None) or edit a custom credential. Besides Save, a POST's `action` is one
    of the shared field template's buttons: auth_fields (the auth type changed), add_header,
    remove_header:N, preview; `?_field=` checks one field as the admin leaves it (htmx)."""
    sandboxes = _sandboxes()
    if request.method == "GET":
        data = (_custom_initial(credential, sandboxes) if credential
                else _new_custom_data(request.args.get("name", "")))
        return _custom_page(_custom_form(sandboxes, credential, data=data), credential, sandboxes,
                            preview=credential is not None)
    action, _colon, argument = request.form.get("action", "save").partition(":")
    formdata = request.form
    if action in ("add_header", "remove_header"):
        formdata = with_header_rows_changed(request.form, action, argument)
    form = _custom_form(sandboxes, credential, formdata=formdata)
    if field_to_check():  # only this field's messages are shown; nothing is saved
        name, status = check_field(form, form.data)
        return checked_field(form, name, status, url_for("credentials.detail", credential_id=credential.id)
                             if credential else url_for("credentials.new_custom"))
    if action == "preview":
        return _custom_page(form, credential, sandboxes, fragment="credentials/custom/_preview.html")
    if action in ("auth_fields", "add_header", "remove_header"):
        return _custom_page(form, credential, sandboxes)  # htmx takes just the part it swaps
    conflict = None
    if form.validate_on_submit():
        try:
            if _saved(form, credential, sandboxes):
                return redirect_to(url_for("credentials.index"))
        except peewee.IntegrityError:
            # Another credential took the name between the check and the save.
            form.name.errors.append(_("An API credential with this name already exists."))
        except EditConflict:
            conflict = saved_meanwhile(form, credential)
    return _custom_page(form, credential, sandboxes, status=409 if conflict else 422, conflict=conflict,
                        conflict_numbers=numbers_of([credential.id]).get(credential.id, []) if conflict else [])


def _saved(form, credential: ApiCredential | None, sandboxes) -> bool:
    """Create or save; whether it was saved (else the reasons are on the form's fields)."""
    if credential is None:
        created = create_custom_credential(form.provider_settings(), form.chosen(), verified=False)
        flash(_("API credential %(name)s created. Send a test request to verify it.", name=created.name), "success")
        notes = []
    else:
        notes = edit_custom_credential(form, credential, sandboxes)
        if notes is None:
            return False
        flash(_("API credential %(name)s saved.", name=form.name.data), "success")
    for note in [*form.warnings, *notes]:
        flash(note, "warning")
    return True


@bp.route("/custom/new", methods=["GET", "POST"])
def new_custom():
    """A new credential with vendor Custom; `?name=` fills in the name (the SMS flow's vendor choice)."""
    return custom_credential_page(None)


def _get_custom(credential_id) -> ApiCredential:
    credential = _get(credential_id)
    if credential.vendor != "custom":
        abort(404)
    return credential


def _test_page(credential, form, status=200, **context):
    context.setdefault("sender", sender_number(credential))
    return render("credentials/custom/test.html", "credentials/custom/_test_section.html", status=status,
                  credential=credential, form=form, **context)


@bp.route("/<int:credential_id>/test", methods=["GET", "POST"])
def send_test(credential_id):
    """Send test request: a real request to the provider with the Number and Message typed; its
    answer is shown, never stored (reloading would send it again), and a 2xx verifies the credential."""
    credential = _get_custom(credential_id)
    form = SmsTestForm()
    if not form.validate_on_submit():
        return _test_page(credential, form, status=422 if form.errors else 200)
    context = send_test_request(credential, form.number.data, form.message.data)
    return _test_page(ApiCredential.get_by_id(credential.id), form, **context)
