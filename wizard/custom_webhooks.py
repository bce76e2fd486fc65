"""Custom-provider webhooks: their setup and their receiver."""
from flask import Blueprint

bp = Blueprint("custom_webhooks", __name__, url_prefix="/webhooks/custom")
receiver = Blueprint("custom_webhook_receiver", __name__, url_prefix="/hooks/custom")
