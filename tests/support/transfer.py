"""Export and import: a prod sandbox with something of every kind, and the three requests of an
import (upload, preview, apply) as a browser sends them."""
import io
import json
import re
from html.parser import HTMLParser

from tests.support.custom_provider import make_custom
from tests.support.custom_webhooks import FEEDBACK_SAMPLE, INBOUND_SAMPLE, make_webhook
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.keywords import save_rules
from wizard.core.db import database
from wizard.core.models import Sandbox

HMAC_SECRET = "webhook-hmac-secret-5d1e"
PROVIDER_KEY = "ak-imported-4b7d9e2f1a3c5e7d"


def make_prod(app, fake_twilio, endpoint) -> dict:
    """prod with a Twilio and a custom credential, an SMS and an RCS channel configuration, an Inbound
    webhook with an HMAC secret and a Feedback one, and keyword rules and settings."""
    twilio = make_credential(app, fake_twilio, name="Main Twilio")
    custom = make_custom(app, endpoint, name="RCS provider")
    make_channel_configuration(app, twilio, name="Marketing_SMS", description="Weekly offers",
                               subdomain="go.example.com")
    make_channel_configuration(app, custom, name="RCS_Offers", channel="rcs", sms_type="transactional")
    make_webhook(app, custom, name="RCS inbound", payload=INBOUND_SAMPLE, hmac_secret=HMAC_SECRET)
    make_webhook(app, None, name="RCS status", type="feedback", payload=FEEDBACK_SAMPLE)
    save_rules(app, twilio, [("opt_out", ["STOP", "退訂"], "You are unsubscribed."), ("help", ["HELP"], "Call us.")],
               default_reply="Thanks!", fuzzy_opt_out=True)
    return {"twilio": twilio, "custom": custom}


def make_sandbox(app, name: str) -> int:
    with app.app_context(), database.connection_context():
        return Sandbox.create(name=name, name_key=name.casefold()).id


def switch_to(client, sandbox_id: int):
    client.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/transfer"})


def export_text(client) -> str:
    client.get("/transfer")
    response = client.post("/transfer/export")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def upload(client, text, filename="sandbox-prod.json", htmx=False):
    client.get("/transfer")
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/transfer/import", {"file": (io.BytesIO(data), filename)}, htmx=htmx,
                       content_type="multipart/form-data")


SECRET_FIELD = re.compile(r'<input[^>]*name="((?:credential|webhook)-\d+-[a-z_]+)"')


def secret_fields(html: str) -> list[str]:
    return SECRET_FIELD.findall(html)


def apply(client, text, secrets: dict, htmx=False):
    """The preview's form posted back: the file, and the secrets typed."""
    return client.post("/transfer/import/apply", {"document": text, **secrets}, htmx=htmx,
                       content_type="multipart/form-data")


def without_sandbox_name(text: str) -> dict:
    document = json.loads(text)
    document.pop("sandbox")
    return document


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def visible(response) -> str:
    """The page's text (markup dropped), its runs of white space made one space."""
    reader = _Text()
    reader.feed(response.get_data(as_text=True))
    return " ".join(" ".join(reader.parts).split())
