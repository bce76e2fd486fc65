"""Where providers call us: each credential-and-sandbox's webhook URLs, and whether Twilio or a
provider can reach them."""
from flask import current_app, url_for
from flask_babel import gettext as _

from wizard.core.context import current_sandbox
from wizard.core.models import CredentialNumber, CustomWebhook
from wizard.shell.pages import public_url


def webhook_urls(number: CredentialNumber) -> dict:
    return {
        "inbound": public_url(url_for("twilio_receivers.inbound", key=number.webhook_key)),
        "status": public_url(url_for("twilio_receivers.status", key=number.webhook_key)),
    }


def status_callback_url(number: CredentialNumber) -> str | None:
    """The StatusCallback to pass when sending; only when Twilio can reach us (the practice
    sandbox's simulator always can: it calls the receivers in-process)."""
    if not current_app.config["PUBLIC_BASE_URL"] and not number.sandbox.is_practice:
        return None
    return webhook_urls(number)["status"]


def reachability_warning(caller: str = "twilio") -> str | None:
    """Why the caller ("twilio" or a custom "provider") may not reach the URLs shown, if it may not."""
    if caller == "twilio" and current_sandbox().is_practice:
        return None  # the simulator calls the receivers in-process
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        if caller == "twilio":
            return _("PUBLIC_BASE_URL is not set: these URLs use the address you browse with, which Twilio "
                     "probably cannot reach. Set PUBLIC_BASE_URL to the public https address of this app.")
        return _("PUBLIC_BASE_URL is not set: these URLs use the address you browse with, which the provider "
                 "probably cannot reach. Set PUBLIC_BASE_URL to the public https address of this app.")
    if not base.startswith("https://"):
        if caller == "twilio":
            return _("PUBLIC_BASE_URL is not https: Twilio needs a public https address to deliver webhooks.")
        return _("PUBLIC_BASE_URL is not https: the provider needs a public https address to reach these URLs.")
    return None


def receiver_url(custom_webhook: CustomWebhook) -> str:
    """Where the provider posts: PUBLIC_BASE_URL (else this request's host) plus the key's path."""
    return public_url(url_for("custom_webhook_receiver.receive", key=custom_webhook.key))
