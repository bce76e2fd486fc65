"""A message's statuses: which move forward, which are final, and what each means to an admin."""
from flask_babel import lazy_gettext as _l

# How far along a message is; a final state is never replaced by an earlier one.
PROGRESS = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3, "received": 4,
    "delivered": 5, "read": 6, "undelivered": 7, "failed": 7, "canceled": 7, "partially_delivered": 7,
}


FINAL = {"delivered", "read", "undelivered", "failed", "canceled", "partially_delivered", "received"}


def moves_forward(current: str | None, new: str) -> bool:
    if current is None:
        return True
    if current in FINAL and new not in FINAL:
        return False
    return PROGRESS.get(new, 0) >= PROGRESS.get(current, 0)


# A status's short name, for filters and tables; Twilio's own word is shown beside it in code.
STATUS_NAME = {
    "accepted": _l("Accepted"),
    "scheduled": _l("Scheduled"),
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "receiving": _l("Receiving"),
    "received": _l("Received"),
    "delivered": _l("Delivered"),
    "read": _l("Read"),
    "undelivered": _l("Undelivered"),
    "failed": _l("Failed"),
    "canceled": _l("Canceled"),
    "partially_delivered": _l("Partially delivered"),
}


MESSAGE_STATUS = {
    "accepted": _l("accepted: Twilio is choosing a sender from the Messaging Service"),
    "scheduled": _l("scheduled"),
    "queued": _l("queued: waiting to be sent"),
    "sending": _l("sending"),
    "sent": _l("sent: the carrier has it"),
    "delivered": _l("delivered to the phone"),
    "undelivered": _l("undelivered: the carrier could not deliver it"),
    "failed": _l("failed: Twilio could not send it"),
    "read": _l("read"),
    "canceled": _l("canceled"),
    "partially_delivered": _l("partially delivered"),
    "receiving": _l("receiving"),
    "received": _l("received"),
}


# What Twilio's commonest message error codes mean to an admin; Twilio's page for each has the rest.
ERROR_MEANINGS = {
    21211: _l("The To number is not a valid phone number."),
    21408: _l("The account's geographic permissions don't allow messages to this country."),
    21610: _l("The recipient replied STOP to this sender: nothing reaches them until they reply START."),
    21614: _l("The To number cannot receive text messages (a landline, for example)."),
    30001: _l("Too many messages were waiting for this sender; Twilio dropped this one."),
    30002: _l("The Twilio account is suspended."),
    30003: _l("The phone is switched off or out of coverage, or cannot receive messages right now."),
    30004: _l("The recipient or their carrier blocked messages from this sender."),
    30005: _l("The number does not exist or is no longer in service."),
    30006: _l("The number is a landline, or its carrier cannot take text messages."),
    30007: _l("The carrier filtered the message, for example as spam."),
    30008: _l("The carrier reported an error without saying which."),
    30032: _l("The toll-free sender is not verified yet."),
    30034: _l("The US sender number is not registered for A2P 10DLC."),
}


def error_meaning(code) -> str | None:
    """What a Twilio error code means, when we know it."""
    try:
        return ERROR_MEANINGS.get(int(code))
    except (TypeError, ValueError):
        return None


def error_page(code) -> str | None:
    """Twilio's page about one error code (None for what is no code)."""
    text = str(code or "")
    return f"https://www.twilio.com/docs/api/errors/{text}" if text.isascii() and text.isdigit() else None
