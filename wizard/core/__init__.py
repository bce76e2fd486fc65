"""The core layer: settings, database, migrations, models, crypto, optimistic edits, the audit
trail and the current sandbox. Imports nothing else of the app."""
