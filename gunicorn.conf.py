"""gunicorn's settings for this app, the production command's and `scripts/run`'s:
`.venv/bin/gunicorn -c gunicorn.conf.py` (command-line options win over these).

Chosen by benchmarks/callback_rate.py on a 2-core machine (README, Production): one process per
core, since one process runs Python on one core at a time; threads so that slow requests (a
Health check waiting up to HEALTH_CHECK_SECONDS for Twilio) don't hold up webhooks. Two workers
of 4, 8 or 16 threads measured alike; three or four workers, or two threads, did worse.
"""
import os

wsgi_app = "app:create_app()"
bind = ["127.0.0.1:8000"]
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
threads = 16


def post_worker_init(worker):
    # Each worker applies the practice simulator's due status changes, even before a request there
    # touches practice: the process that accepted a send may be gone by the time its changes are due.
    from wizard.providers.transport import simulator

    simulator(worker.wsgi)
