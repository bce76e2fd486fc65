"""Channel configurations: what a journey sends through, per sandbox."""
