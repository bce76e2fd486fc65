"""The keywords page: rules and replies per credential and sandbox."""
