"""Importing an export file into a sandbox: one path for the preview and the import.

run() walks the file's objects in order (credentials, channel configurations, custom webhooks,
keywords) inside one transaction. Each object is matched by name, compared with what is stored
(field by field), checked by the very form its own page uses, and written through its page's own
save where the feature has one. The preview runs it without secrets (a secret not typed yet counts
as given) and rolls back; the import runs it with the typed secrets and commits only when every
object passed: one refused object, or one the database refuses, and nothing is written."""
import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import peewee
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from wizard.channels.forms import ChannelConfigurationForm
from wizard.core import audit
from wizard.core.db import database
from wizard.core.editing import EditConflict, update_unchanged
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    CredentialNumber,
    CustomWebhook,
    KeywordRule,
    KeywordSettings,
    Sandbox,
)
from wizard.credentials.custom import create_custom_credential, save_custom_credential, stored_secrets, stored_urls
from wizard.credentials.custom_forms import custom_form_class
from wizard.credentials.forms import credential_form_class
from wizard.credentials.twilio import create_credential, save_credential
from wizard.keywords.forms import KeywordRuleForm, KeywordSettingsForm
from wizard.providers.custom.auth import AUTH_TYPES, FIELD_LABELS
from wizard.providers.transport import TwilioAccount
from wizard.transfer.document import channel_entry, credential_entry, keywords_entry, webhook_entry
from wizard.webhooks.custom_forms import CustomWebhookForm

NO_CSRF = {"csrf": False}  # the import form carries the token; these forms only check values


@dataclass
class Secret:
    """A secret the import asks for: its field in the secrets form, and what it is."""

    field: str
    label: str
    kept: bool  # a stored one is kept when left blank


@dataclass
class Item:
    kind: str  # credential, channel, webhook, keywords
    name: str
    action: str = "unchanged"  # create, update, unchanged
    changes: dict = field(default_factory=dict)  # field -> [stored, in the file]
    errors: list = field(default_factory=list)
    secrets: list = field(default_factory=list)
    secret_errors: dict = field(default_factory=dict)  # secrets form field -> messages beside it
    service: str | None = None  # a Twilio credential's Messaging Service, whose webhook URLs are new here


@dataclass
class Outcome:
    items: list
    failure: str | None = None  # the database refused a write: nothing was written

    @property
    def ok(self) -> bool:
        return self.failure is None and not any(item.errors for item in self.items)

    def counts(self) -> dict:
        found = {"create": 0, "update": 0, "unchanged": 0}
        for item in self.items:
            found[item.action] += 1
        return found

    def apply_to_twilio(self) -> list:
        """The Twilio credentials whose webhook URLs are new in this sandbox: Apply to Twilio afterwards."""
        return [item for item in self.items if item.service and not item.errors]


class _Rollback(Exception):
    pass


def _changes(before: dict | None, after: dict) -> dict:
    before = before or {}
    return {name: [before.get(name), value] for name, value in after.items()
            if name != "secrets" and before.get(name) != value}


def _form(form_class, data: dict, **kwargs):
    formdata = MultiDict()
    for name, value in data.items():
        if isinstance(value, bool):
            if value:
                formdata.add(name, "y")
        elif value is not None:
            formdata.add(name, value)
    return form_class(formdata=formdata, meta=NO_CSRF, **kwargs)


def _take_errors(item: Item, form, secret_fields: dict | None = None):
    """The form's messages onto the item: a secret's beside its field in the secrets form."""
    secret_fields = secret_fields or {}
    for name, field_name in secret_fields.items():
        if form[name].errors:
            item.secret_errors.setdefault(field_name, []).extend(str(message) for message in form[name].errors)
    item.errors += _form_errors(form, skip=secret_fields)
    if secret_fields and item.secret_errors and not item.errors:
        item.errors.append(_("A secret it needs is missing or wrong (see its field below)."))


def _form_errors(form, skip=()) -> list[str]:
    found = []
    for name, messages in form.errors.items():
        if name in skip:
            continue
        if name is None:  # form-wide errors
            found += [str(message) for message in messages]
            continue
        label = form[name].label.text if name in form else name
        for message in (messages if isinstance(messages, list) else [messages]):
            if isinstance(message, dict):  # a header row: its own fields' messages
                found += [_("%(field)s: %(problem)s", field=label, problem=text) for texts in message.values()
                          for text in texts]
            else:
                found.append(_("%(field)s: %(problem)s", field=label, problem=message))
    return found


def _sandboxes_for(existing, sandbox) -> list:
    """The sandboxes the credential's form shows: this one, and those its stored numbers are in (kept)."""
    ids = {sandbox.id} | (set(existing.numbers_by_sandbox()) if existing else set())
    return list(Sandbox.select().where(Sandbox.id.in_(list(ids))).order_by(Sandbox.name_key))


def _numbers_data(existing, sandbox, sandboxes, number: str) -> dict:
    stored = existing.numbers_by_sandbox() if existing else {}
    data = {}
    for other in sandboxes:
        data[f"use_{other.id}"] = True
        data[f"number_{other.id}"] = number if other.id == sandbox.id else stored.get(other.id, "")
    return data


def _credential(index: int, entry: dict, sandbox, secrets: dict | None) -> Item:
    item = Item("credential", entry["name"])
    existing = ApiCredential.get_or_none(ApiCredential.name_key == entry["name"].strip().casefold())
    if existing is not None and existing.vendor != entry["vendor"]:
        item.errors.append(_("An API credential with this name exists here with another vendor (%(vendor)s).",
                             vendor=existing.vendor))
        return item
    before = credential_entry(existing, existing.numbers_by_sandbox().get(sandbox.id)) if existing else None
    item.changes = _changes(before, entry)
    item.action = "create" if existing is None else ("update" if item.changes else "unchanged")
    if existing is None or "number" in item.changes:
        item.service = entry.get("messaging_service_sid") if entry["vendor"] == "twilio" else None
    if item.action == "unchanged":
        return item
    if entry["vendor"] == "twilio":
        _twilio_credential(index, entry, sandbox, secrets, existing, item)
    else:
        _custom_credential(index, entry, sandbox, secrets, existing, item)
    return item


def _typed(secrets: dict | None, name: str) -> str:
    return (secrets or {}).get(name) or ""


def _twilio_credential(index, entry, sandbox, secrets, existing, item):
    name = f"credential-{index}-auth_token"
    stored = existing is not None and bool(existing.auth_token)
    item.secrets.append(Secret(name, _("Auth Token"), kept=stored))
    sandboxes = _sandboxes_for(existing, sandbox)
    data = {"name": entry["name"], "account_sid": entry["account_sid"],
            "messaging_service_sid": entry["messaging_service_sid"], "auth_token": _typed(secrets, name),
            "version": str(existing.version) if existing else "", **_numbers_data(existing, sandbox, sandboxes,
                                                                                 entry["number"])}
    # The preview has no secrets yet: a token to come counts as given.
    form = _form(credential_form_class(sandboxes), data, credential_id=existing and existing.id,
                 token_stored=stored or secrets is None)
    if not form.validate():
        _take_errors(item, form, {"auth_token": name})
        return
    if existing is None:
        account = TwilioAccount(form.account_sid.data, form.auth_token.data or None, None)
        credential = create_credential(name=form.name.data, account=account,
                                       messaging_service_sid=form.messaging_service_sid.data,
                                       numbers=form.chosen(), verified=None)
    else:
        save_credential(form, existing, sandboxes, None)
        credential = ApiCredential.get_by_id(existing.id)
        if {"account_sid", "messaging_service_sid"} & item.changes.keys() or form.auth_token.data:
            # Not what Twilio verified: verify it again (API credentials page).
            ApiCredential.update(verification_state="never", verified_at=None).where(
                ApiCredential.id == credential.id).execute()
    if credential.webhook_log_only != entry["webhook_log_only"]:
        audit.record("update", credential, {"webhook_log_only": [credential.webhook_log_only,
                                                                 entry["webhook_log_only"]]})
        ApiCredential.update(webhook_log_only=entry["webhook_log_only"]).where(
            ApiCredential.id == credential.id).execute()


def _custom_credential(index, entry, sandbox, secrets, existing, item):
    kind = AUTH_TYPES.get(entry["auth_type"])
    stored = stored_secrets(existing)
    names = {secret: f"credential-{index}-{secret}" for secret in (kind.secrets if kind else ())}
    item.secrets += [Secret(field_name, str(FIELD_LABELS[secret]), kept=secret in stored)
                     for secret, field_name in names.items()]
    settable = set(kind.fields) - set(kind.secrets) if kind else set()
    unknown = sorted(set(entry["auth_settings"]) - settable)
    if unknown:
        item.errors.append(_("Its auth settings hold %(fields)s, which auth type %(type)s doesn't have.",
                             fields=", ".join(unknown[:5]), type=entry["auth_type"]))
        return
    sandboxes = _sandboxes_for(existing, sandbox)
    data = {"name": entry["name"], "provider_name": entry["provider_name"], "provider_url": entry["provider_url"],
            "auth_type": entry["auth_type"], "payload_format": entry["payload_format"],
            "payload_template": entry["payload_template"], "version": str(existing.version) if existing else "",
            **_numbers_data(existing, sandbox, sandboxes, entry["number"])}
    for position, (header, value) in enumerate(entry["headers"]):
        data[f"headers-{position}-name"], data[f"headers-{position}-value"] = header, value
    data.update(entry["auth_settings"])
    data.update({secret: _typed(secrets, field_name) for secret, field_name in names.items()})
    if secrets is None:  # the preview: every secret to come counts as given
        stored = {**{secret: "" for secret in names}, **stored}
    form = _form(custom_form_class(sandboxes), data, credential_id=existing and existing.id,
                 stored_secrets=stored if existing or secrets is None else {},
                 stored_urls=stored_urls(existing))
    if not form.validate():
        _take_errors(item, form, names)
        return
    for secret in entry["secrets"]:
        if secret in names and secrets is not None and not data[secret] and secret not in form.kept_secrets:
            item.secret_errors.setdefault(names[secret], []).append(_(
                "The exported credential had one: type it, or the credential would be left without it."))
    if item.secret_errors:
        item.errors.append(_("A secret it needs is missing or wrong (see its field below)."))
        return
    if existing is None:
        create_custom_credential(form.provider_settings(), form.chosen(), verified=False)
    else:
        save_custom_credential(form, existing, sandboxes)


def _credential_id(name: str | None, refused: set) -> tuple[str, str | None]:
    """The form's value for a credential named in the file, and why it can't be used, if so."""
    if not name:
        return "", None
    if name.strip().casefold() in refused:
        return "", _("Its API credential %(name)s is refused (see above).", name=name)
    found = ApiCredential.get_or_none(ApiCredential.name_key == name.strip().casefold())
    if found is None:
        return "", _("It sends through API credential %(name)s, which is neither in the file nor here.", name=name)
    return str(found.id), None


def _channel(entry: dict, sandbox, refused: set) -> Item:
    item = Item("channel", entry["name"])
    existing = ChannelConfiguration.get_or_none(ChannelConfiguration.name_key == entry["name"].strip().casefold(),
                                                ChannelConfiguration.sandbox == sandbox.id)
    item.changes = _changes(channel_entry(existing) if existing else None, entry)
    item.action = "create" if existing is None else ("update" if item.changes else "unchanged")
    if item.action == "unchanged":
        return item
    credential_id, problem = _credential_id(entry["credential"], refused)
    if problem:
        item.errors.append(problem)
        return item
    data = {**entry, "credential": credential_id, "version": str(existing.version) if existing else ""}
    form = _form(ChannelConfigurationForm, data, sandbox=sandbox, configuration_id=existing and existing.id)
    if not form.validate():
        item.errors += _form_errors(form)
        return item
    values = form.columns()
    if existing is None:
        created = ChannelConfiguration.create(sandbox=sandbox.id, status="draft", **values)
        audit.record("create", created, audit.diff({}, channel_entry(created)))
    else:
        update_unchanged(form, existing, {getattr(ChannelConfiguration, name): value for name, value in values.items()})
        audit.record("update", existing, item.changes)
    return item


def _webhook(index: int, entry: dict, sandbox, secrets: dict | None, refused: set) -> Item:
    item = Item("webhook", entry["name"])
    existing = CustomWebhook.get_or_none(CustomWebhook.name_key == entry["name"].strip().casefold(),
                                         CustomWebhook.sandbox == sandbox.id)
    item.changes = _changes(webhook_entry(existing) if existing else None, entry)
    item.changes.pop("hmac_secret", None) if existing and existing.hmac_secret and entry["hmac_secret"] else None
    item.action = "create" if existing is None else ("update" if item.changes else "unchanged")
    if item.action == "unchanged":
        return item
    secret_name = f"webhook-{index}-hmac_secret"
    stored = existing is not None and bool(existing.hmac_secret)
    if entry["hmac_secret"]:
        item.secrets.append(Secret(secret_name, _("HMAC secret"), kept=stored))
    typed = _typed(secrets, secret_name) if entry["hmac_secret"] else ""
    if entry["hmac_secret"] and secrets is not None and not typed and not stored:
        item.secret_errors[secret_name] = [_("The exported webhook checked signatures with one: type it, or the "
                                             "webhook would accept unsigned requests.")]
        item.errors.append(_("A secret it needs is missing or wrong (see its field below)."))
    credential_id, problem = _credential_id(entry["credential"], refused)
    if problem:
        item.errors.append(problem)
    if item.errors:
        return item
    data = {"name": entry["name"], "type": entry["type"], "credential": credential_id,
            "sender_number": entry["sender_number"], "payload": entry["payload"], "hmac_header": entry["hmac_header"],
            "hmac_secret": typed, "version": str(existing.version) if existing else ""}
    form = _form(CustomWebhookForm, data, sandbox=sandbox, webhook_id=existing and existing.id, secret_stored=stored)
    if not form.validate():
        _take_errors(item, form, {"hmac_secret": secret_name})
        return item
    values = form.columns()
    if not entry["hmac_secret"]:
        values["hmac_secret"] = None  # the exported webhook had none: neither has the imported one
    if existing is None:
        created = CustomWebhook.create(sandbox=sandbox.id, **values)
        audit.record("create", created, audit.diff({}, webhook_entry(created)),
                     secret_fields=CustomWebhook.SECRET_FIELDS)
    else:
        update_unchanged(form, existing, {getattr(CustomWebhook, name): value for name, value in values.items()})
        audit.record("update", existing, item.changes | ({"hmac_secret": "set"} if typed else {}),
                     secret_fields=CustomWebhook.SECRET_FIELDS)
    return item


def _keywords(entry: dict, sandbox, refused: set) -> Item:
    item = Item("keywords", entry["credential"])
    credential_id, problem = _credential_id(entry["credential"], refused)
    if problem:
        item.errors.append(problem)
        return item
    credential = ApiCredential.get_by_id(int(credential_id))
    if not CredentialNumber.select().where(CredentialNumber.credential == credential.id,
                                           CredentialNumber.sandbox == sandbox.id).exists():
        item.errors.append(_("API credential %(name)s has no number in this sandbox.", name=credential.name))
        return item
    before = keywords_entry(credential, sandbox)
    item.changes = _changes(before, entry)
    item.action = "create" if before is None else ("update" if item.changes else "unchanged")
    if item.action == "unchanged":
        return item
    settings_form = None
    if entry["settings"]:
        settings_form = _form(KeywordSettingsForm, entry["settings"])
        if not settings_form.validate():
            item.errors += _form_errors(settings_form)
    others, rules = [], []
    for rule in entry["rules"]:
        form = _form(KeywordRuleForm, {**rule, "keywords": ", ".join(rule["keywords"])}, others=list(others))
        if not form.validate():
            item.errors += _form_errors(form)
            continue
        rules.append(form)
        others.append(SimpleNamespace(category=form.category.data, keyword_list=form.parsed))
    if item.errors:
        return item
    settings = KeywordSettings.get_or_none(KeywordSettings.credential == credential.id,
                                           KeywordSettings.sandbox == sandbox.id)
    if settings_form is not None:
        values = {"default_reply": settings_form.default_reply.data or "",
                  "fuzzy_opt_out": settings_form.fuzzy_opt_out.data,
                  "fuzzy_reply": settings_form.fuzzy_reply.data or "",
                  "advanced_opt_out": settings_form.advanced_opt_out.data}
        if settings is None:
            settings = KeywordSettings.create(credential=credential, sandbox=sandbox, **values)
        else:
            KeywordSettings.update(**values, version=KeywordSettings.version + 1).where(
                KeywordSettings.id == settings.id).execute()
    KeywordRule.delete().where(KeywordRule.credential == credential.id, KeywordRule.sandbox == sandbox.id).execute()
    for position, form in enumerate(rules):
        KeywordRule.create(credential=credential, sandbox=sandbox, category=form.category.data,
                           keywords=json.dumps(form.parsed, ensure_ascii=False), reply=form.reply.data or "",
                           position=position)
    target = settings or KeywordSettings(id=0, credential=credential, sandbox=sandbox)
    audit.record(item.action, target, item.changes)
    return item


def _once(name: str, kind: str, seen: set) -> Item | None:
    """A refused item when the file already had an object of this kind and name (names match
    ignoring case, as they do here); None the first time."""
    key = (kind, name.strip().casefold())
    if key not in seen:
        seen.add(key)
        return None
    return Item(kind, name, action="create", errors=[_("The file has this name twice: names are unique.")])


def run(document: dict, sandbox, secrets: dict | None = None, commit: bool = False) -> Outcome:
    """Every object of the file against the sandbox; written only when `commit` and all pass.
    `secrets`: the secrets form's values by field name; None for the preview."""
    outcome = Outcome([])
    current = None
    try:
        with database.atomic():
            refused, seen = set(), set()
            for index, entry in enumerate(document["credentials"]):
                current = (ApiCredential.kind, entry["name"])
                item = _once(entry["name"], "credential", seen) or _credential(index, entry, sandbox, secrets)
                outcome.items.append(item)
                if item.errors:
                    refused.add(entry["name"].strip().casefold())
            for entry in document["channel_configurations"]:
                current = (ChannelConfiguration.kind, entry["name"])
                outcome.items.append(_once(entry["name"], "channel", seen) or _channel(entry, sandbox, refused))
            for index, entry in enumerate(document["custom_webhooks"]):
                current = (CustomWebhook.kind, entry["name"])
                outcome.items.append(_once(entry["name"], "webhook", seen)
                                     or _webhook(index, entry, sandbox, secrets, refused))
            for entry in document["keywords"]:
                current = (KeywordSettings.kind, entry["credential"])
                outcome.items.append(_once(entry["credential"], "keywords", seen)
                                     or _keywords(entry, sandbox, refused))
            if commit and outcome.ok:
                counts = outcome.counts()
                audit.record("import", sandbox, {
                    "file": [None, document["sandbox"]], "created": [None, counts["create"]],
                    "updated": [None, counts["update"]], "unchanged": [None, counts["unchanged"]]})
            else:
                raise _Rollback()
    except _Rollback:
        pass
    except EditConflict:
        outcome.failure = _("Someone changed %(kind)s %(name)s while this import ran. Nothing was imported: "
                            "look at the preview again.", kind=current[0], name=current[1])
    except peewee.DatabaseError as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        outcome.failure = _("Nothing was imported: the database refused %(kind)s %(name)s (%(reason)s).",
                            kind=current[0], name=current[1], reason=reason)
    return outcome
