"""gunicorn's settings for this app: `.venv/bin/gunicorn -c gunicorn.conf.py 'app:create_app()'`."""
from wizard.providers.transport import simulator


def post_worker_init(worker):
    # Each worker applies the practice simulator's due status changes, even before a request there
    # touches practice: the process that accepted a send may be gone by the time its changes are due.
    simulator(worker.wsgi)
