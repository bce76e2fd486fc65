"""Webhooks from Twilio: the URLs each credential and sandbox gets, applying them to the
Messaging Service, and the receivers for inbound messages and delivery status."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
receivers = Blueprint("twilio_receivers", __name__, url_prefix="/hooks/twilio")
