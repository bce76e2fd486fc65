"""The export file: one sandbox's configuration as JSON, every object by name, no id, no secret.

    {"format": FORMAT, "version": VERSION, "sandbox": "prod",
     "credentials": [...], "channel_configurations": [...], "custom_webhooks": [...], "keywords": [...]}

A credential lists the names of the secrets it needs ("secrets"), never their values; a custom
webhook says whether it had an HMAC secret. read() checks a file's shape and types before anything
looks at its values; the values are then checked by the app's own forms (wizard.transfer.importing)."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from wizard.core import json_text
from wizard.core.models import (
    ApiCredential,
    ChannelConfiguration,
    CredentialNumber,
    CustomWebhook,
    KeywordRule,
    KeywordSettings,
)
from wizard.providers.custom.auth import AUTH_TYPES

FORMAT = "twilio-messaging-setup/sandbox"
VERSION = 1


VENDORS = ("twilio", "custom")


# Each kind's entries: field -> the type it must have (str, bool, list of str pairs, ...).
TEXT, FLAG, TEXT_OR_NONE, MAPPING, PAIRS, TEXTS = "text", "flag", "text_or_none", "mapping", "pairs", "texts"


COMMON_CREDENTIAL = {"name": TEXT, "vendor": TEXT, "number": TEXT, "secrets": TEXTS}


CREDENTIAL_FIELDS = {
    "twilio": {**COMMON_CREDENTIAL, "account_sid": TEXT, "messaging_service_sid": TEXT, "webhook_log_only": FLAG},
    "custom": {**COMMON_CREDENTIAL, "provider_name": TEXT, "provider_url": TEXT, "auth_type": TEXT,
               "auth_settings": MAPPING, "headers": PAIRS, "payload_format": TEXT, "payload_template": TEXT},
}


CHANNEL_FIELDS = {"name": TEXT, "description": TEXT, "channel": TEXT, "sms_type": TEXT, "credential": TEXT,
                  "sender_number": TEXT, "subdomain": TEXT, "execution_field": TEXT}


WEBHOOK_FIELDS = {"name": TEXT, "type": TEXT, "credential": TEXT_OR_NONE, "sender_number": TEXT, "payload": TEXT,
                  "hmac_header": TEXT, "hmac_secret": FLAG}


KEYWORD_FIELDS = {"credential": TEXT, "settings": "object", "rules": "list"}


SETTINGS_FIELDS = {"default_reply": TEXT, "fuzzy_opt_out": FLAG, "fuzzy_reply": TEXT, "advanced_opt_out": FLAG}


RULE_FIELDS = {"category": TEXT, "keywords": TEXTS, "reply": TEXT}


KINDS = ("credentials", "channel_configurations", "custom_webhooks", "keywords")


MAX_ENTRIES = 500  # of each kind; a sandbox has a handful


class BadFile(ValueError):
    """The file can't be imported; its message says why, for the admin."""


# ---- export ------------------------------------------------------------------------------------


def credential_entry(credential: ApiCredential, number: str) -> dict:
    entry = {"name": credential.name, "vendor": credential.vendor, "number": number}
    if credential.vendor == "twilio":
        entry.update(account_sid=credential.account_sid or "",
                     messaging_service_sid=credential.messaging_service_sid or "",
                     webhook_log_only=bool(credential.webhook_log_only), secrets=["auth_token"])
        return entry
    kind = AUTH_TYPES.get(credential.auth_type or "")
    stored = json.loads(credential.auth_secrets or "{}")
    entry.update(provider_name=credential.provider_name or "", provider_url=credential.provider_url or "",
                 auth_type=credential.auth_type or "", auth_settings=json.loads(credential.auth_settings or "{}"),
                 headers=json.loads(credential.headers or "[]"), payload_format=credential.payload_format or "",
                 payload_template=credential.payload_template or "",
                 secrets=[name for name in (kind.secrets if kind else ()) if stored.get(name)])
    return entry


def channel_entry(configuration: ChannelConfiguration) -> dict:
    return {"name": configuration.name, "description": configuration.description, "channel": configuration.channel,
            "sms_type": configuration.sms_type, "credential": configuration.credential.name,
            "sender_number": configuration.sender_number, "subdomain": configuration.subdomain,
            "execution_field": configuration.execution_field}


def webhook_entry(webhook: CustomWebhook) -> dict:
    return {"name": webhook.name, "type": webhook.type,
            "credential": webhook.credential.name if webhook.credential_id else None,
            "sender_number": webhook.sender_number, "payload": webhook.payload, "hmac_header": webhook.hmac_header,
            "hmac_secret": bool(webhook.hmac_secret)}


def settings_entry(settings: KeywordSettings | None) -> dict:
    if settings is None:
        return {}
    return {"default_reply": settings.default_reply, "fuzzy_opt_out": settings.fuzzy_opt_out,
            "fuzzy_reply": settings.fuzzy_reply, "advanced_opt_out": settings.advanced_opt_out}


def rule_entries(rules) -> list[dict]:
    return [{"category": rule.category, "keywords": rule.keyword_list, "reply": rule.reply} for rule in rules]


def keywords_entry(credential: ApiCredential, sandbox) -> dict | None:
    """The credential's keyword settings and rules in the sandbox; None when it has none stored."""
    settings = KeywordSettings.get_or_none(KeywordSettings.credential == credential.id,
                                           KeywordSettings.sandbox == sandbox.id)
    rules = list(KeywordRule.select().where(KeywordRule.credential == credential.id, KeywordRule.sandbox == sandbox.id)
                 .order_by(KeywordRule.position, KeywordRule.id))
    if settings is None and not rules:
        return None
    return {"credential": credential.name, "settings": settings_entry(settings), "rules": rule_entries(rules)}


def export(sandbox) -> dict:
    """The sandbox's configuration as the file holds it, each list in name order."""
    numbers = list(CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential)
                   .where(CredentialNumber.sandbox == sandbox.id).order_by(ApiCredential.name_key))
    configurations = (ChannelConfiguration.select().where(ChannelConfiguration.sandbox == sandbox.id)
                      .order_by(ChannelConfiguration.name_key))
    webhooks = CustomWebhook.select().where(CustomWebhook.sandbox == sandbox.id).order_by(CustomWebhook.name_key)
    keywords = [keywords_entry(number.credential, sandbox) for number in numbers]
    return {
        "format": FORMAT,
        "version": VERSION,
        "sandbox": sandbox.name,
        "credentials": [credential_entry(number.credential, number.phone_number) for number in numbers],
        "channel_configurations": [channel_entry(configuration) for configuration in configurations],
        "custom_webhooks": [webhook_entry(webhook) for webhook in webhooks],
        "keywords": [entry for entry in keywords if entry is not None],
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# ---- reading a file ------------------------------------------------------------------------------


def _type_problem(value, expected: str) -> bool:
    """True when the value is not of the expected type."""
    if expected == TEXT:
        return not isinstance(value, str)
    if expected == TEXT_OR_NONE:
        return value is not None and not isinstance(value, str)
    if expected == FLAG:
        return not isinstance(value, bool)
    if expected == TEXTS:
        return not isinstance(value, list) or not all(isinstance(item, str) for item in value)
    if expected == PAIRS:
        return not isinstance(value, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
            for pair in value)
    if expected == MAPPING:
        return not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values())
    if expected == "object":
        return not isinstance(value, dict)
    if expected == "version":
        return not isinstance(value, int)
    return not isinstance(value, list)  # "list": its entries are checked one by one


EXPECTED = {
    TEXT: _l("text"), TEXT_OR_NONE: _l("text or null"), FLAG: _l("true or false"), TEXTS: _l("a list of texts"),
    PAIRS: _l("a list of [name, value] pairs of texts"), MAPPING: _l("an object of texts"), "object": _l("an object"),
    "list": _l("a list"), "version": _l("a number"),
}


def _check_entry(entry, fields: dict, where: str, required=None):
    """Raise BadFile unless entry is an object with exactly these fields, of these types."""
    if not isinstance(entry, dict):
        raise BadFile(_("%(where)s is not a JSON object.", where=where))
    required = fields.keys() if required is None else required
    missing = [name for name in required if name not in entry]
    if missing:
        raise BadFile(_("%(where)s lacks %(fields)s.", where=where, fields=", ".join(missing)))
    unknown = [name for name in entry if name not in fields]
    if unknown:
        raise BadFile(_("%(where)s has fields this version of the file doesn't have: %(fields)s.",
                        where=where, fields=", ".join(unknown[:5])))
    for name, value in entry.items():
        if _type_problem(value, fields[name]):
            raise BadFile(_("%(where)s: %(field)s must be %(expected)s.", where=where, field=name,
                            expected=EXPECTED[fields[name]]))


def read(text: str) -> dict:
    """The file's document, its shape and types checked; raises BadFile with the reason."""
    try:
        document = json_text.loads(text)
    except json.JSONDecodeError as error:
        raise BadFile(json_text.problem(error)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadFile(_("This is not a sandbox configuration exported by this app (its \"format\" is not %(format)s).",
                        format=FORMAT))
    if document.get("version") != VERSION or isinstance(document.get("version"), bool):
        raise BadFile(_("This file has format version %(version)s; this app reads version %(expected)s.",
                        version=json.dumps(document.get("version")), expected=VERSION))
    _check_entry(document, {"format": TEXT, "version": "version", "sandbox": TEXT, **{kind: "list" for kind in KINDS}},
                 _("The file"), required=("sandbox", *KINDS))
    for kind in KINDS:
        entries = document[kind]
        if len(entries) > MAX_ENTRIES:
            raise BadFile(_("%(kind)s has more than %(count)s entries.", kind=kind, count=MAX_ENTRIES))
        for index, entry in enumerate(entries):
            where = f"{kind}[{index}]"
            if kind == "credentials":
                vendor = entry.get("vendor") if isinstance(entry, dict) else None
                if vendor not in VENDORS:
                    raise BadFile(_("%(where)s has the vendor %(vendor)s; this app knows %(vendors)s.", where=where,
                                    vendor=json.dumps(vendor, ensure_ascii=False)[:80], vendors=", ".join(VENDORS)))
                _check_entry(entry, CREDENTIAL_FIELDS[vendor], where)
            elif kind == "channel_configurations":
                _check_entry(entry, CHANNEL_FIELDS, where)
            elif kind == "custom_webhooks":
                _check_entry(entry, WEBHOOK_FIELDS, where)
            else:
                _check_entry(entry, KEYWORD_FIELDS, where)
                if entry["settings"]:
                    _check_entry(entry["settings"], SETTINGS_FIELDS, f"{where}.settings")
                for number, rule in enumerate(entry["rules"]):
                    _check_entry(rule, RULE_FIELDS, f"{where}.rules[{number}]")
    return document
