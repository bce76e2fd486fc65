"""The shell layer: the page frame every feature uses (page or fragment, htmx answers, the one field
check, shared field filters and validators, languages)."""
