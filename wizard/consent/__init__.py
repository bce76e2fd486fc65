"""The consent register and its CSV."""
