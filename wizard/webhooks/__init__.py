"""Webhooks: Twilio's receivers and their page (URLs, Apply to Twilio), custom-provider webhooks."""
