"""The Twilio messaging setup wizard: one module per domain concern (see README)."""
