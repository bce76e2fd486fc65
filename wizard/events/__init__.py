"""Events: inbound messages and delivery status, live; message timelines."""
