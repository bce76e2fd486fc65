"""Sandboxes and the header's sandbox switcher."""
