"""Every text of the player page has its Spanish and Portuguese translation."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def translated(po: Path) -> set[str]:
    """The msgids of ``po`` with a non-empty, non-fuzzy translation (single or multi-line)."""
    found = set()
    for block in po.read_text().split("\n\n"):
        if "#, fuzzy" in block:
            continue
        for match in re.finditer(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M):
            msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
            msgstr = "".join(re.findall(r'"(.*)"', match.group(2)))
            if msgid and msgstr:
                found.add(msgid.replace('\\"', '"'))
    return found


def literals(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text()))


@pytest.mark.parametrize("language", ["es", "pt"])
def test_the_play_page_is_translated(language):
    messages = ROOT / "locale" / language / "LC_MESSAGES"
    script = literals(ROOT / "static/play/play.js", r'(?<![n])gettext\("([^"]*)"\)')
    page = literals(ROOT / "templates/play/page.html", r'{% translate "([^"]*)"')
    assert script and page
    assert sorted(script - translated(messages / "djangojs.po")) == []
    assert sorted(page - translated(messages / "django.po")) == []
