"""The providers layer: talking to the outside. The transport (Twilio, TWILIO_BASE_URL or the
in-app simulator, by the credential's own sandboxes), Twilio's client and live checks, custom
providers' requests."""
