"""What a conformance probe reports: PASS, FAIL (expected, got, the request) or SKIP (why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from apps.core.fields import mask_secret
from apps.core.wire import dumps
from apps.operators.calllog import mask_body
from apps.operators.clients import CallResult, PreparedCall

Verdict = Literal["PASS", "FAIL", "SKIP"]
PASS: Verdict = "PASS"
FAIL: Verdict = "FAIL"
SKIP: Verdict = "SKIP"

# Headers a report never holds in full: the operator's own key. Signatures and timestamps
# stay whole: they are what an engineer recomputes to reproduce a request.
REPORT_SECRET_HEADERS = {"x-api-key"}


@dataclass
class ProbeResult:
    name: str
    title: str
    verdict: Verdict
    expected: str = ""
    got: str = ""
    why: str = ""
    request: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    operator: str
    started_at: str
    finished_at: str = ""
    probes: list[ProbeResult] = field(default_factory=list)
    error: str = ""

    def count(self, verdict: Verdict) -> int:
        return sum(1 for probe in self.probes if probe.verdict == verdict)

    @property
    def ok(self) -> bool:
        return not self.error and self.count(FAIL) == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "passed": self.count(PASS),
            "failed": self.count(FAIL),
            "skipped": self.count(SKIP),
            "ok": self.ok,
            "error": self.error,
            "probes": [probe.as_dict() for probe in self.probes],
        }


def reproducible(call: PreparedCall) -> dict[str, Any]:
    """The exact request, to send again by hand: method, URL, headers and body (the API
    key and any user token masked; a body without a token is the exact bytes sent)."""
    headers = {
        name: mask_secret(value) if name.lower() in REPORT_SECRET_HEADERS else value
        for name, value in call.headers.items()
    }
    text = call.body.decode(errors="replace")
    body = mask_body(call.body) if "userToken" in text else text  # else: the exact bytes
    return {"method": "POST", "url": call.url, "headers": headers, "body": body}


def described(result: CallResult) -> str:
    """What came back, in one line."""
    if result.status is None:
        return f"no answer: {result.error_message or result.error_code}"
    parts = [f"HTTP {result.status}"]
    if result.error_code and not result.ok:
        parts.append(result.error_code)
    if result.error_message:
        parts.append(result.error_message[:200])
    elif result.data:
        parts.append(_short(result.data))
    return " ".join(parts)


def _short(data: dict[str, Any]) -> str:
    return dumps(data).decode()[:200]


def report_table(report: dict[str, Any]) -> str:
    """A report (``Report.as_dict()``) as a readable table, each FAIL with its request."""
    rows = [("VERDICT", "PROBE", "DETAIL")]
    for probe in report.get("probes", []):
        if probe["verdict"] == SKIP:
            detail = probe["why"]
        elif probe["verdict"] == FAIL:
            detail = f"expected {probe['expected']}; got {probe['got']}"
        else:
            detail = probe["got"]
        rows.append((probe["verdict"], probe["name"], detail))
    width = max(len(name) for _, name, _ in rows)
    lines = [f"{verdict:<7} {name:<{width}}  {detail}" for verdict, name, detail in rows]
    for probe in report.get("probes", []):
        request = probe.get("request")
        if probe["verdict"] == FAIL and request:
            lines.append("")
            lines.append(f"{probe['name']}: to reproduce")
            lines.append(f"  {request['method']} {request['url']}")
            lines.extend(f"  {name}: {value}" for name, value in request["headers"].items())
            lines.append(f"  {request['body']}")
    lines.append("")
    summary = (
        f"{report.get('passed', 0)} passed, {report.get('failed', 0)} failed, "
        f"{report.get('skipped', 0)} skipped"
    )
    if report.get("error"):
        summary += f"; could not run: {report['error']}"
    lines.append(summary)
    return "\n".join(lines)
