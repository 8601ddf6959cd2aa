"""gunicorn's settings: ``gunicorn -c config/gunicorn.py config.wsgi`` (flags still win).

The access log is on (stdout) and redacts player tokens: ``init`` hands followers a
``/play/?token=...`` URL, and its request line would otherwise land in the log in full.
"""

from gunicorn.glogging import Logger

from apps.core.logging import redact_tokens  # plain Python: no Django needed to import it


class RedactingLogger(Logger):
    """gunicorn's logger, with every access-log atom (request line, query, referrer,
    headers) redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_tokens(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = RedactingLogger
accesslog = "-"
