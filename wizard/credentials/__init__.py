"""API credentials: the list, Twilio credentials (edit, delete, Verify SMS connection) and custom-provider
credentials (create, edit, Send test request). Each views module adds its routes to one blueprint."""
from wizard.credentials import custom_views, verify_views, views  # noqa: F401  (their routes)
from wizard.credentials.blueprint import bp  # noqa: F401
