"""Run ``celery`` (worker or beat) for the broker tests, on a queue of their own.

``python -m tests.broker.run_celery worker --pool=solo ...``: the project's Celery app with
``task_default_queue`` taken from ``COPYPOOL_TEST_QUEUE``, so a test's worker, beat and the
test process only ever exchange messages among themselves on a shared Redis.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from config.celery import app  # noqa: E402

app.conf.task_default_queue = os.environ["COPYPOOL_TEST_QUEUE"]

if __name__ == "__main__":
    sys.exit(app.start(argv=sys.argv[1:]) or 0)
