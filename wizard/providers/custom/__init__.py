"""Custom providers (RCS through Twilio is one): settings, payload, headers, URL safety, auth types,
the HTTP exchange and presets."""
