"""The messaging layer: what receivers and pages share about messages (statuses, storing events,
keyword matching, consent records, the URLs providers call)."""
