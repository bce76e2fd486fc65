"""Custom-provider webhooks: the samples of an Inbound and a Feedback webhook, and a saved one."""
import json

from wizard.core.db import database
from wizard.core.models import CustomWebhook, Sandbox

PROD_NUMBER = "+14155550101"
INBOUND_SAMPLE = json.dumps({
    "event": "message",
    "message": {"id": "{{RequestID}}", "text": "{{InboundMessage}}", "sentAt": "{{OriginTimestamp}}"},
    "from": {"phone": "{{ProfileNumber}}"},
    "to": ["{{InboundNumber}}"],
}, indent=2)
FEEDBACK_SAMPLE = json.dumps({"ref": "{{clientReference}}", "result": {"code": "{{code}}", "state": "{{status}}"}})


def make_webhook(app, credential_id=None, name="RCS inbound", type="inbound", payload=None, sandbox="prod",
                 **fields) -> CustomWebhook:
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get_or_none(Sandbox.name == sandbox) or Sandbox.create(name=sandbox,
                                                                              name_key=sandbox.casefold())
        return CustomWebhook.create(
            name=name, name_key=name.casefold(), type=type, credential=credential_id, sandbox=sandbox,
            sender_number=PROD_NUMBER if type == "inbound" else "",
            payload=payload or (INBOUND_SAMPLE if type == "inbound" else FEEDBACK_SAMPLE), **fields)


def inbound_form(credential_id, **changes):
    data = {"name": "RCS inbound", "type": "inbound", "credential": str(credential_id), "sender_number": PROD_NUMBER,
            "payload": INBOUND_SAMPLE, "hmac_secret": "", "hmac_header": "X-Signature"}
    data.update(changes)
    return data
