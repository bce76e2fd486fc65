"""Inbound messages through keyword matching, and saved keyword rules."""
import json

from wizard.core.db import database
from wizard.core.models import ApiCredential, KeywordRule, KeywordSettings, Sandbox
from wizard.messaging.keywords import DEFAULT_REPLIES, respond
from wizard.messaging.store import inbound_from_twilio

OPT_OUT = DEFAULT_REPLIES["opt_out"]
OPT_IN = DEFAULT_REPLIES["opt_in"]
HELP = DEFAULT_REPLIES["help"]


def inbound(app, credential_id, body, sid, sender="+14155550100", sandbox="prod"):
    """What the Twilio receiver does: store the message, then respond() in the same transaction."""
    with app.test_request_context(), database.connection_context(), database.atomic():
        message = inbound_from_twilio(
            credential=ApiCredential.get_by_id(credential_id) if credential_id else None,
            sandbox=Sandbox.get(Sandbox.name == sandbox),
            params={"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}, signed=True)
        return respond(message), message.id


def save_rules(app, credential_id, rules, sandbox="prod", **fields):
    with app.app_context(), database.connection_context(), database.atomic():
        sandbox = Sandbox.get(Sandbox.name == sandbox)
        KeywordSettings.create(credential=credential_id, sandbox=sandbox, **fields)
        for position, (category, keywords, reply) in enumerate(rules):
            KeywordRule.create(credential=credential_id, sandbox=sandbox, category=category,
                               keywords=json.dumps(keywords, ensure_ascii=False), reply=reply, position=position)


def rule(category, keywords, reply=""):
    return KeywordRule(category=category, keywords=json.dumps([k.upper() for k in keywords], ensure_ascii=False),
                       reply=reply)


def settings(**fields):
    return KeywordSettings(**fields)
