"""Admin accounts: first run, sign in and out, admins."""
