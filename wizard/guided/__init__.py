"""Guided setup: the step engine, its storage of each run's draft, the flows declared as data."""
