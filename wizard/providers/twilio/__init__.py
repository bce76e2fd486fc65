"""Twilio: the official client pointed where the transport says, the live checks, the simulator."""
