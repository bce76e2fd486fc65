"""Channel configurations: what a journey sends through, kept per sandbox.

Save as draft stores a configuration as it is; Submit first verifies its API credential
live with Twilio, and the configuration is Active only when that passes."""
import peewee
from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from wtforms.validators import ValidationError

from wizard.channels.forms import CHANNELS, SMS_TYPES, ChannelConfigurationForm, name_taken
from wizard.core import audit
from wizard.core.context import current_sandbox
from wizard.core.db import database
from wizard.core.editing import (
    EditConflict,
    check_unchanged,
    saved_meanwhile,
    update_unchanged,
)
from wizard.core.ids import id_or_none
from wizard.core.models import ApiCredential, ChannelConfiguration
from wizard.providers.twilio.checks import verify_credential
from wizard.shell.field_check import check_field, checked_field, field_to_check
from wizard.shell.pages import get_here, is_htmx, redirect_to, render

bp = Blueprint("channels", __name__, url_prefix="/channels")


# What the admin edits, in the form's order; each also checks itself as the admin leaves it.
FIELDS = ("name", "description", "channel", "sms_type", "credential", "sender_number", "subdomain",
          "execution_field")


# Submit stores what the live check found out about the credential.
VERIFICATION_FIELDS = (ApiCredential.verification_state, ApiCredential.verification_error,
                       ApiCredential.verified_at, ApiCredential.account_name, ApiCredential.account_type)


MAX_NAME = 128


def _get(configuration_id) -> ChannelConfiguration:
    return get_here(ChannelConfiguration, configuration_id, "channels.index")


def _snapshot(configuration: ChannelConfiguration) -> dict:
    """The audited fields, the credential by name."""
    return {
        "name": configuration.name,
        "description": configuration.description,
        "channel": configuration.channel,
        "sms_type": configuration.sms_type,
        "credential": configuration.credential.name,
        "sender_number": configuration.sender_number,
        "subdomain": configuration.subdomain,
        "execution_field": configuration.execution_field,
        "status": configuration.status,
        "status_reason": configuration.status_reason,
    }


def _initial(configuration: ChannelConfiguration) -> dict:
    return {"name": configuration.name, "description": configuration.description,
            "channel": configuration.channel, "sms_type": configuration.sms_type,
            "credential": str(configuration.credential_id), "sender_number": configuration.sender_number,
            "subdomain": configuration.subdomain, "execution_field": configuration.execution_field,
            "version": str(configuration.version)}


def _labels() -> dict:
    return {"channel_labels": {key: channel["label"] for key, channel in CHANNELS.items()},
            "sms_type_labels": SMS_TYPES}


def _list_context() -> dict:
    sandbox = current_sandbox()
    configurations = list(
        ChannelConfiguration.select(ChannelConfiguration, ApiCredential).join(ApiCredential)
        .where(ChannelConfiguration.sandbox == sandbox.id).order_by(ChannelConfiguration.name_key))
    return {"sandbox": sandbox, "configurations": configurations, **_labels()}


@bp.route("")
def index():
    """The current sandbox's channel configurations."""
    return render("channels/index.html", "channels/_list.html", **_list_context())


def _form_from_the_address(sandbox, configuration=None) -> ChannelConfigurationForm:
    """The form as a GET opens it: `?credential=` chooses the credential (and so the sender number),
    `?channel=` the channel; a credential given alone brings the channel it can carry."""
    data = _initial(configuration) if configuration else {}
    chosen, channel = request.args.get("credential"), request.args.get("channel")
    if chosen is not None:
        data["credential"] = chosen
        credential = ApiCredential.get_or_none(ApiCredential.id == id_or_none(chosen))
        if channel is None and credential is not None:
            channel = next((key for key, c in CHANNELS.items() if credential.vendor in c["vendors"]), None)
    if channel is not None:
        data["channel"] = channel
    form = ChannelConfigurationForm(sandbox=sandbox, configuration_id=configuration and configuration.id, data=data)
    if chosen is not None:
        _check_only(form, "credential")  # say at once why a credential given in the link can't be used
    elif configuration is None:
        form.follow_channel()  # the one credential this sandbox can send through: nothing to choose
    return form


def _check_only(form, name):
    try:
        getattr(form, f"validate_{name}")(form[name])
    except ValidationError as error:
        form[name].errors = [error.args[0]]


def _page(form, configuration, status=200, **context):
    template = "channels/detail.html" if configuration else "channels/new.html"
    action_url = (url_for("channels.detail", configuration_id=configuration.id) if configuration
                  else url_for("channels.new"))
    return render(template, "channels/_form.html", status=status, form=form, configuration=configuration,
                  action_url=action_url, sandbox=form.sandbox, **_labels(), **context)


def _one_field(form, configuration):
    """One field, checked as the form stands; nothing is saved or asked of Twilio.

    A POST checks the field the admin just left; a GET brings the credential field with the
    chosen credential's sender number (its check ran as the form was opened). The channel
    brings the credentials that can carry it, and their errors wait for a save.
    """
    name, status = check_field(form, FIELDS if request.method == "POST" else ("credential",))
    action_url = (url_for("channels.detail", configuration_id=configuration.id) if configuration
                  else url_for("channels.new"))
    groups = {"credential": "channel credential", "channel": "channel"}
    if name == "channel":
        form.credential.errors, form.sender_number.errors = [], []
    return checked_field(form, name, status, action_url, group=groups.get(name))


def _choices_followed(form, configuration, channel_changed: bool):
    """With JavaScript off, "Update choices", or a save whose credential list was another channel's:
    the form again, its lists following what is typed, and nothing saved."""
    if request.form.get("action") == "choices":
        return _page(form, configuration)
    if channel_changed:
        notice = _("The API credentials offered now are those that can send %(channel)s. Check the API "
                   "credential and the sender number, then save again.",
                   channel=CHANNELS.get(form.channel.data, CHANNELS["sms"])["label"])
        return _page(form, configuration, status=422, notice=notice)
    return None


def _outcome(action: str, credential: ApiCredential) -> tuple[str, str | None]:
    """The status a save leaves, and why it is not Active: Submit verifies the credential live."""
    if action != "submit":
        return "draft", None
    failure = verify_credential(credential)
    return ("draft", failure) if failure else ("active", None)


def _values(form) -> dict:
    return {getattr(ChannelConfiguration, name): value for name, value in form.columns().items()}


def _create(form, sandbox, action: str) -> ChannelConfiguration:
    credential = form.chosen_credential
    status, reason = _outcome(action, credential)
    with database.atomic():
        configuration = ChannelConfiguration.create(
            **{field.name: value for field, value in _values(form).items()},
            sandbox=sandbox.id, status=status, status_reason=reason)
        if action == "submit":
            credential.save(only=VERIFICATION_FIELDS)
        audit.record("create", configuration, audit.diff({}, _snapshot(configuration)))
    return configuration


def _update(form, configuration: ChannelConfiguration, action: str) -> ChannelConfiguration:
    """Write the form over the configuration, if nobody saved it since the form was opened."""
    check_unchanged(form, configuration)  # known before asking Twilio anything
    credential = form.chosen_credential
    status, reason = _outcome(action, credential)
    before = _snapshot(configuration)
    values = {**_values(form), ChannelConfiguration.status: status, ChannelConfiguration.status_reason: reason}
    with database.atomic():
        update_unchanged(form, configuration, values)
        if action == "submit":
            credential.save(only=VERIFICATION_FIELDS)
        saved = ChannelConfiguration.get_by_id(configuration.id)
        audit.record("update", saved, audit.diff(before, _snapshot(saved)))
    return saved


def _saved(configuration: ChannelConfiguration, action: str):
    """Tell how the save went and leave the form: to the list, or to the draft that failed to submit."""
    if configuration.status == "active":
        flash(_("Channel configuration %(name)s is active: API credential %(credential)s passed the check with "
                "Twilio.", name=configuration.name, credential=configuration.credential.name), "success")
    elif action == "submit":
        flash(_("Channel configuration %(name)s was saved but stays a draft: API credential %(credential)s did not "
                "pass the check with Twilio.", name=configuration.name, credential=configuration.credential.name),
              "error")
        return redirect_to(url_for("channels.detail", configuration_id=configuration.id))
    else:
        flash(_("Channel configuration %(name)s saved as a draft.", name=configuration.name), "success")
    return redirect_to(url_for("channels.index"))


def _name_taken(form):
    # Someone took the name between the check and the write.
    form.name.errors = [*form.name.errors, _("A channel configuration with this name already exists.")]


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a configuration in the current sandbox; `?credential=<id>` preselects its credential."""
    sandbox = current_sandbox()
    if request.method == "GET":
        form = _form_from_the_address(sandbox)
        return _one_field(form, None) if field_to_check() else _page(form, None)
    form = ChannelConfigurationForm(sandbox=sandbox)
    channel_changed = form.follow_changes()
    if field_to_check():
        return _one_field(form, None)
    followed = _choices_followed(form, None, channel_changed)
    if followed is not None:
        return followed
    if form.validate_on_submit():
        action = request.form.get("action", "draft")
        try:
            return _saved(_create(form, sandbox, action), action)
        except peewee.IntegrityError:
            _name_taken(form)
    return _page(form, None, status=422)


@bp.route("/<int:configuration_id>", methods=["GET", "POST"])
def detail(configuration_id):
    """The configuration's page: its status and the edit form."""
    configuration = _get(configuration_id)
    sandbox = configuration.sandbox
    if request.method == "GET":
        form = _form_from_the_address(sandbox, configuration)
        return _one_field(form, configuration) if field_to_check() else _page(form, configuration)
    form = ChannelConfigurationForm(sandbox=sandbox, configuration_id=configuration.id)
    channel_changed = form.follow_changes()
    if field_to_check():
        return _one_field(form, configuration)
    followed = _choices_followed(form, configuration, channel_changed)
    if followed is not None:
        return followed
    if form.validate_on_submit():
        action = request.form.get("action", "draft")
        try:
            return _saved(_update(form, configuration, action), action)
        except EditConflict:
            current = saved_meanwhile(form, configuration)
            return _page(form, current, status=409, conflict=_differences(form, current))
        except peewee.IntegrityError:
            _name_taken(form)
    return _page(form, configuration, status=422)


def _differences(form, current: ChannelConfiguration) -> list[str]:
    """The labels of the fields whose saved value now differs from what the admin typed."""
    typed = {field.name: value for field, value in _values(form).items()}
    typed["credential"] = str(typed["credential"])
    saved = {**_initial(current), "name_key": current.name_key}
    return [str(form[name].label.text) for name in FIELDS if str(saved.get(name) or "") != str(typed.get(name) or "")]


def _copy_name(name: str, sandbox) -> str:
    """name-copy, then name-copy-2, ...: the first that is free in the sandbox, within the length a name may have."""
    attempt = 1
    while True:
        suffix = "-copy" if attempt == 1 else f"-copy-{attempt}"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        if not name_taken(candidate, sandbox):
            return candidate
        attempt += 1


@bp.route("/<int:configuration_id>/duplicate", methods=["POST"])
def duplicate(configuration_id):
    """Copy a configuration as a draft and open the copy to edit it."""
    original = _get(configuration_id)
    with database.atomic():
        name = _copy_name(original.name, original.sandbox)
        copy = ChannelConfiguration.create(
            name=name, name_key=name.casefold(), description=original.description, channel=original.channel,
            sms_type=original.sms_type, credential=original.credential_id, sandbox=original.sandbox_id,
            sender_number=original.sender_number, subdomain=original.subdomain,
            execution_field=original.execution_field, status="draft")
        audit.record("create", copy, audit.diff({}, _snapshot(copy)))
    flash(_("Channel configuration %(original)s copied as %(name)s, a draft.", original=original.name, name=name),
          "success")
    return redirect_to(url_for("channels.detail", configuration_id=copy.id))


@bp.route("/<int:configuration_id>/delete", methods=["GET", "POST"])
def delete(configuration_id):
    """GET asks first (no JavaScript); POST deletes, and for htmx the list updates in place."""
    configuration = _get(configuration_id)
    if request.method == "GET":
        return render("channels/delete.html", configuration=configuration)
    with database.atomic():
        audit.record("delete", configuration, {field: [value, None] for field, value in
                                               _snapshot(configuration).items() if value not in (None, "")})
        configuration.delete_instance()
    flash(_("Channel configuration %(name)s deleted.", name=configuration.name), "success")
    if is_htmx():
        return render("channels/index.html", "channels/_list.html", **_list_context())
    return redirect_to(url_for("channels.index"))
