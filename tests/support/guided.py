"""Walking the guided flow "Set up Twilio SMS/MMS" with the test client."""
from tests.support.html import text


def start(client, **form) -> str:
    """Start the SMS flow (`form`: e.g. return_to, the token of the run that waits for it)."""
    client.get("/setup")
    response = client.post("/setup/sms", form)
    assert response.status_code == 303
    return response.headers["Location"]  # the first step's URL


def step_url(first_url: str, step: str) -> str:
    return first_url.rsplit("/", 1)[0] + "/" + step


def walk_to(client, fake, upto: str, name="Twilio prod", **form) -> str:
    """Go through the steps before `upto` with good input; return the first step's URL."""
    first = start(client, **form)
    client.get(first)
    steps = {
        "credential": {"vendor": "twilio", "name": name},
        "account": {"account_sid": fake.account_sid, "auth_token": fake.auth_token},
        "messaging_service": {"messaging_service_sid": fake.service_sid},
        "numbers": {"use_1": "y", "number_1": fake.service_numbers[0]},
    }
    for step, data in steps.items():
        if step == upto:
            break
        response = client.post(step_url(first, step), data)
        assert response.status_code == 303, text(response)
        client.get(response.headers["Location"])
    return first


# The RCS step's console checklist as a browser shows it.
RCS_CONSOLE_LABELS = ("Create the RCS sender", "Test it on devices", "Submit it for carrier approval", "Get approved",
                      "Add the RCS sender to the Messaging Service's sender pool")
RCS_CONSOLE = {name: "y" for name in ("sender_created", "sender_tested", "sender_submitted", "sender_approved",
                                  "sender_in_pool")}


def start_rcs(client) -> str:
    client.get("/setup")
    response = client.post("/setup/rcs")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[0]
