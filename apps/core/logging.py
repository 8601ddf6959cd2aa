"""Secrets out of log lines: the player token of a ``/play/?token=...`` request line (and any
other ``token=`` query parameter) is replaced before a record is written.

``RedactTokensFilter`` sits on the project's log handlers (``LOGGING`` in the settings), so
Django's request lines (``django.server``) and anything else that logs a URL are covered;
the gunicorn access log uses ``redact_tokens`` through ``config/gunicorn.py``.
"""

import logging
import re

REDACTED = "[redacted]"
# token=... in a query string, also percent-encoded inside another URL (next=%2Fplay%2F%3Ftoken%3D).
_TOKEN_PARAM = re.compile(r"((?:^|[?&;]|%3F|%26)token(?:=|%3D))[^&;\s\"'#]+", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    return _TOKEN_PARAM.sub(lambda match: match.group(1) + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """Rewrites a record whose message carries a ``token=`` parameter; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the formatter's to report
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
