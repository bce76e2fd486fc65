"""Walking practice mode with the test client: a practice sandbox, and the guided SMS/MMS flow
with the simulator's demo account."""
import re

from tests.support.html import text
from wizard.core.db import database
from wizard.core.models import Sandbox
from wizard.providers.twilio.simulator import DEMO_ACCOUNT, DEMO_SERVICES

DEMO_NUMBER = DEMO_SERVICES[0].numbers[0]


def practice_sandbox(app, name="practice") -> int:
    with app.app_context(), database.connection_context():
        return Sandbox.create(name=name, name_key=name.casefold(), is_practice=True).id


def start(client, flow) -> str:
    client.get("/setup")
    response = client.post(f"/setup/{flow}")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[0]


def demo_sms_flow(client, sandbox_id, name="Demo Twilio", number=DEMO_NUMBER) -> int:
    """The guided SMS/MMS flow with the practice account; the new credential's id."""
    base = start(client, "sms")
    client.get(f"{base}/credential")
    steps = [
        ("credential", {"vendor": "twilio", "name": name}),
        ("account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": DEMO_ACCOUNT.auth_token}),
        ("messaging_service", {"messaging_service_sid": DEMO_SERVICES[0].sid}),
        ("numbers", {f"use_{sandbox_id}": "y", f"number_{sandbox_id}": number}),
    ]
    for step, data in steps:
        page = text(client.get(f"{base}/{step}"))
        if step == "messaging_service":  # the account's services, listed live
            assert DEMO_SERVICES[0].friendly_name in page and DEMO_SERVICES[1].friendly_name in page
        response = client.post(f"{base}/{step}", data)
        assert response.status_code == 303, text(response)
    response = client.post(f"{base}/review")
    assert response.status_code == 303, text(response)
    return int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))
