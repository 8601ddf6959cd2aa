"""Settings for the operator API benchmark: the project as ``config.settings.local`` serves it
(``DEBUG`` and the rest from the environment), with one bare DRF endpoint added
(``benchmarks._bench_urls``) to compare the signed ``init`` with."""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "benchmarks._bench_urls"
