"""Running a management command that prints one JSON object, as the SPEC's commands do."""

import json
from io import StringIO

from django.core.management import call_command


def run_json_command(command: str, *args: str) -> dict:
    """Run ``command`` and return the one JSON object it printed (on exactly one line)."""
    out = StringIO()
    call_command(command, *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])
