"""Custom-provider webhooks: their setup and their receiver.

A custom provider (RCS and others) posts JSON in its own format. The admin pastes the
provider's sample body with placeholders where the values are; the receiver reads real
requests by that shape (wizard.providers.custom.shape). The unguessable key in the URL names the
webhook and authenticates the call; an optional HMAC-SHA256 header over the raw body
proves it further."""
import json
import shlex

import peewee
from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _

from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.editing import EditConflict, saved_meanwhile, update_unchanged
from wizard.core.models import ApiCredential, CustomWebhook
from wizard.messaging.receiver_urls import reachability_warning, receiver_url
from wizard.providers.custom.shape import fill
from wizard.shell.field_check import check_field, checked_field, field_to_check
from wizard.shell.pages import get_here, is_htmx, redirect_to, render
from wizard.webhooks.custom_forms import (
    SAMPLE_VALUES,
    TYPES,
    CustomWebhookForm,
    check_payload,
)

bp = Blueprint("custom_webhooks", __name__, url_prefix="/webhooks/custom")


# What the admin edits, in the form's order; any but the secret checks itself as the admin leaves it.
FIELDS = ("name", "type", "credential", "sender_number", "payload", "hmac_secret", "hmac_header")


def list_context() -> dict:
    """What templates/webhooks/custom/_list.html needs: the current sandbox's webhooks.

    The names are prefixed: the Webhooks page passes these beside its own."""
    sandbox = current_sandbox()
    rows = list(CustomWebhook.select(CustomWebhook, ApiCredential)
                .join(ApiCredential, peewee.JOIN.LEFT_OUTER)
                .where(CustomWebhook.sandbox == sandbox.id)
                .order_by(CustomWebhook.name_key))
    return {"custom_webhooks": rows, "custom_webhooks_sandbox": sandbox,
            "custom_webhooks_warning": reachability_warning("provider"), "custom_webhook_url": receiver_url,
            "custom_webhook_types": TYPES}


def _get(webhook_id) -> CustomWebhook:
    return get_here(CustomWebhook, webhook_id, "custom_webhooks.index")


def _snapshot(custom_webhook: CustomWebhook) -> dict:
    """The audited fields; the secret only ever shows as changed (audit.record masks it)."""
    return {
        "name": custom_webhook.name,
        "type": custom_webhook.type,
        "credential": custom_webhook.credential.name if custom_webhook.credential_id else None,
        "sender_number": custom_webhook.sender_number or None,
        "payload": custom_webhook.payload,
        "hmac_secret": custom_webhook.hmac_secret,
        "hmac_header": custom_webhook.hmac_header,
    }


def _initial(custom_webhook: CustomWebhook) -> dict:
    return {"name": custom_webhook.name, "type": custom_webhook.type,
            "credential": str(custom_webhook.credential_id or ""), "sender_number": custom_webhook.sender_number,
            "payload": custom_webhook.payload, "hmac_header": custom_webhook.hmac_header,
            "version": str(custom_webhook.version)}


@bp.route("")
def index():
    """The current sandbox's custom webhooks."""
    return render("webhooks/custom/index.html", "webhooks/custom/_list.html", **list_context())


def _form(sandbox, custom_webhook=None, **kwargs) -> CustomWebhookForm:
    return CustomWebhookForm(sandbox=sandbox, webhook_id=custom_webhook and custom_webhook.id,
                             secret_stored=bool(custom_webhook and custom_webhook.hmac_secret), **kwargs)


def _page(form, custom_webhook, status=200, **context):
    """The form's page, or for htmx the form."""
    template = "webhooks/custom/detail.html" if custom_webhook else "webhooks/custom/new.html"
    action_url = (url_for("custom_webhooks.detail", webhook_id=custom_webhook.id) if custom_webhook
                  else url_for("custom_webhooks.new"))
    extra = {"sample": _sample(custom_webhook)} if custom_webhook else {}
    return render(template, "webhooks/custom/_form.html", status=status, form=form, custom_webhook=custom_webhook,
                  action_url=action_url, sandbox=form.sandbox, custom_webhook_url=receiver_url,
                  custom_webhooks_warning=reachability_warning("provider"), **extra, **context)


# The fields whose check answers with more than the field (_checked_field.html's exceptions): a new type
# brings the fields it needs and its payload, whose needs changed, out of band.
GROUPS = {"type": "webhook type", "credential": "webhook credential", "sender_number": "webhook credential",
          "payload": "webhook payload"}


def _one_field(form, custom_webhook):
    """Check the form as it stands and answer with one field (nothing is saved)."""
    field_name, status = check_field(form, FIELDS)
    if field_name == "credential":
        # The sender number follows the credential: the one it has in this sandbox.
        form.sender_number.data = form.number_here() or ""
    for name in FIELDS:
        if name == field_name or (name == "payload" and field_name == "type" and form.payload.data):
            continue
        form[name].errors = []  # only the field the admin left speaks up
    if field_name not in ("payload", "type"):
        form.payload_warnings = []
    url = (url_for("custom_webhooks.detail", webhook_id=custom_webhook.id) if custom_webhook
           else url_for("custom_webhooks.new"))
    return checked_field(form, field_name, status, url, group=GROUPS.get(field_name))


def _values(form, custom_webhook=None) -> dict:
    return form.columns(editing=custom_webhook is not None)


def _create(form, sandbox) -> CustomWebhook:
    with database.atomic():
        created = CustomWebhook.create(sandbox=sandbox.id, **_values(form))
        audit.record("create", created, audit.diff({}, _snapshot(created)), secret_fields=CustomWebhook.SECRET_FIELDS)
    return created


def _update(form, custom_webhook: CustomWebhook) -> CustomWebhook:
    """Write the form over the webhook, if nobody saved it since the form was opened."""
    before = _snapshot(custom_webhook)
    values = {getattr(CustomWebhook, name): value for name, value in _values(form, custom_webhook).items()}
    with database.atomic():
        update_unchanged(form, custom_webhook, values)
        saved = CustomWebhook.get_by_id(custom_webhook.id)
        audit.record("update", saved, audit.diff(before, _snapshot(saved)), secret_fields=CustomWebhook.SECRET_FIELDS)
    return saved


def _name_taken(form):
    # Someone took the name between the check and the write.
    form.name.errors = [*form.name.errors, _("A webhook with this name already exists.")]


def _saved(custom_webhook: CustomWebhook, message: str):
    """Open the webhook's page: its URL to give the provider, and any payload warning beside the field."""
    flash(message, "success")
    return redirect_to(url_for("custom_webhooks.detail", webhook_id=custom_webhook.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a webhook in the current sandbox; it opens on its page, with its URL to copy."""
    sandbox = current_sandbox()
    if request.method == "GET":
        return _page(_form(sandbox), None)
    form = _form(sandbox)
    if field_to_check():
        return _one_field(form, None)
    if form.validate_on_submit():
        try:
            created = _create(form, sandbox)
        except peewee.IntegrityError:
            _name_taken(form)
        else:
            return _saved(created, _("Webhook %(name)s created. Give the provider its URL.", name=created.name))
    return _page(form, None, status=422)


@bp.route("/<int:webhook_id>", methods=["GET", "POST"])
def detail(webhook_id):
    """The webhook's page: its URL, how to send it a sample, and the edit form."""
    custom_webhook = _get(webhook_id)
    sandbox = custom_webhook.sandbox
    if request.method == "GET":
        form = _form(sandbox, custom_webhook, data=_initial(custom_webhook))
        form.payload_warnings = check_payload(custom_webhook.payload, custom_webhook.type)[1]
        return _page(form, custom_webhook)
    form = _form(sandbox, custom_webhook)
    if field_to_check():
        return _one_field(form, custom_webhook)
    if form.validate_on_submit():
        try:
            saved = _update(form, custom_webhook)
        except EditConflict:
            current = saved_meanwhile(form, custom_webhook)
            return _page(form, current, status=409, conflict=_differences(form, current))
        except peewee.IntegrityError:
            _name_taken(form)
        else:
            return _saved(saved, _("Webhook %(name)s saved.", name=saved.name))
    return _page(form, custom_webhook, status=422)


def _differences(form, current: CustomWebhook) -> list[str]:
    """The labels of the fields whose saved value now differs from what the admin typed."""
    typed = {name: "" if value is None else str(value) for name, value in _values(form, current).items()}
    saved = _initial(current)
    return [str(form[name].label.text) for name in ("name", "type", "credential", "sender_number", "payload",
                                                    "hmac_header") if saved.get(name, "") != typed.get(name, "")]


def _sample(custom_webhook: CustomWebhook) -> dict | None:
    """A curl command that posts the sample, filled in, to the webhook (never with the secret)."""
    values = {**SAMPLE_VALUES, "InboundNumber": custom_webhook.sender_number or "+14155550100"}
    try:
        body = fill(custom_webhook.payload, values)
    except json.JSONDecodeError:
        return None
    url = receiver_url(custom_webhook)
    if custom_webhook.hmac_secret:
        header = custom_webhook.hmac_header
        command = (f"BODY={shlex.quote(body)}\n"
                   "SIGNATURE=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$HMAC_SECRET\" | sed 's/^.* //')\n"
                   f"curl -i -X POST {shlex.quote(url)} \\\n"
                   "  -H 'Content-Type: application/json' \\\n"
                   f"  -H {shlex.quote(header + ': sha256=')}\"$SIGNATURE\" \\\n"
                   "  --data-binary \"$BODY\"")
    else:
        command = (f"curl -i -X POST {shlex.quote(url)} \\\n"
                   "  -H 'Content-Type: application/json' \\\n"
                   f"  --data-binary {shlex.quote(body)}")
    return {"command": command, "signed": bool(custom_webhook.hmac_secret)}


@bp.route("/<int:webhook_id>/delete", methods=["GET", "POST"])
def delete(webhook_id):
    """GET asks first (no JavaScript); POST deletes, and for htmx the list updates in place."""
    custom_webhook = _get(webhook_id)
    if request.method == "GET":
        return render("webhooks/custom/delete.html", custom_webhook=custom_webhook)
    with database.atomic():
        audit.record("delete", custom_webhook, {name: [value, None] for name, value in
                                                _snapshot(custom_webhook).items() if value not in (None, "")},
                     secret_fields=CustomWebhook.SECRET_FIELDS)
        custom_webhook.delete_instance()
    flash(_("Webhook %(name)s deleted.", name=custom_webhook.name), "success")
    if is_htmx():
        return render("webhooks/custom/index.html", "webhooks/custom/_list.html", **list_context())
    return redirect_to(url_for("custom_webhooks.index"))
