# Sourced by bin/demo and bin/test: find Python >= 3.12, make .venv, install pinned deps.
# Re-running is cheap: dependencies are reinstalled only when requirements.txt changes.

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 \
      "$HOME"/.pyenv/versions/3.13*/bin/python "$HOME"/.pyenv/versions/3.12*/bin/python \
      /usr/local/bin/python3 /usr/bin/python3 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

bootstrap() {
  local python stamp wanted
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    python=$(find_python) || { echo "CopyPool needs Python 3.12 or newer (set PYTHON=/path/to/python3.12)" >&2; exit 1; }
    echo "==> creating .venv with $python" >&2
    rm -rf .venv
    "$python" -m venv .venv
  fi
  stamp=.venv/.requirements.sha256
  wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "==> installing dependencies" >&2
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -r requirements.txt >&2
    echo "$wanted" > "$stamp"
  fi
}

ensure_chromium() {
  # Browser tests drive Debian's Chromium (Playwright's own download does not work offline).
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing chromium (browser tests)" >&2
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }) \
      || echo "warning: could not install chromium; browser tests will be skipped" >&2
  else
    echo "warning: /usr/bin/chromium missing; browser tests will be skipped" >&2
  fi
}
