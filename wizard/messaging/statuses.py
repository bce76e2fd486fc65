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
