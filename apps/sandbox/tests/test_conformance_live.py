"""The conformance check over real HTTP against the sandbox operator: it passes with every
misbehaviour switch off, and each switch fails exactly the probes it should."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.operators.conformance.report import FAIL, PASS, SKIP
from apps.operators.conformance.suite import conformance_check
from apps.operators.models import CallLog, ConformanceRun
from apps.sandbox.models import SandboxAccount
from apps.sandbox.services import sandbox_fault_set

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK_ONLY = {
    "signature-accepted",
    "streamer-balance",
    "streamer-balance-non-streamer",
    "signature-wrong",
    "api-key-wrong",
    "body-changed",
    "transfer-deposit-idempotent",
    "transfer-withdrawal-idempotent",
    "transfer-unknown-user",
    "transfer-non-streamer",
    "transfer-insufficient-balance",
    "game-pool",
}
WALLET_ONLY = {
    "wallet-auth",
    "wallet-signature-wrong",
    "wallet-timestamp-window",
    "wallet-deposit-duplicate",
    "wallet-withdraw-duplicate",
    "wallet-rollback",
    "wallet-rollback-unknown",
    "wallet-late-withdraw",
    "wallet-insufficient-funds",
}
ALL_PROBES = CALLBACK_ONLY | WALLET_ONLY | {"balances-restored"}


def verdicts(report):
    return {probe.name: probe.verdict for probe in report.probes}


def failed(report):
    return {probe.name for probe in report.probes if probe.verdict == FAIL}


def balances(*accounts):
    return [SandboxAccount.objects.get(pk=account.pk).balance for account in accounts]


def test_every_probe_passes_against_the_sandbox(conformance_world):
    # given
    operator, _, streamer, follower = conformance_world
    # when
    report = conformance_check(operator=operator)
    # then: every probe ran and passed, and nothing moved in the end
    assert verdicts(report) == dict.fromkeys(ALL_PROBES, PASS)
    assert [probe.name for probe in report.probes][-1] == "balances-restored"
    assert report.ok
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]
    assert report.as_dict()["passed"] == len(ALL_PROBES)


def _switch(sandbox, name):
    setattr(sandbox, name, True)
    sandbox.save(update_fields=[name])


def test_wrong_secret_fails_the_two_gates_and_skips_the_rest(conformance_world):
    # given
    operator, sandbox, streamer, follower = conformance_world
    _switch(sandbox, "uses_wrong_secret")
    # when
    report = conformance_check(operator=operator)
    # then
    assert failed(report) == {"signature-accepted", "wallet-auth"}
    assert {n for n, v in verdicts(report).items() if v == SKIP} == ALL_PROBES - failed(report)
    by_name = {probe.name: probe for probe in report.probes}
    assert "a correctly signed request was refused" in by_name["signature-accepted"].got
    assert "HTTP 401" in by_name["signature-accepted"].got
    assert "check the wallet secret" in by_name["wallet-auth"].got
    assert by_name["signature-accepted"].request["headers"]["X-REQUEST-SIGNATURE"]
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]
    assert not report.ok


def test_no_transfer_idempotency_fails_the_two_transfer_probes(conformance_world):
    # given
    operator, sandbox, streamer, follower = conformance_world
    _switch(sandbox, "ignores_transfer_ids")
    # when
    report = conformance_check(operator=operator)
    # then: each repeat moved the money again; the deposit's and the withdrawal's cancel out
    assert failed(report) == {"transfer-deposit-idempotent", "transfer-withdrawal-idempotent"}
    deposit = next(p for p in report.probes if p.name == "transfer-deposit-idempotent")
    assert "the balance went 100 -> 102 (moved 2, once is 1)" in deposit.got
    assert "the repeat answered HTTP 200" in deposit.got
    assert deposit.request["body"] == (
        '{"id":"' + deposit.request["body"].split('"')[3] + '","userId":"s-1","type":"DEPOSIT",'
        '"amount":1,"currency":"USD"}'
    )
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]


def test_no_wallet_409_fails_the_three_duplicate_probes(conformance_world):
    # given
    operator, sandbox, streamer, follower = conformance_world
    _switch(sandbox, "no_wallet_duplicate_409")
    # when
    report = conformance_check(operator=operator)
    # then
    assert failed(report) == {
        "wallet-deposit-duplicate",
        "wallet-withdraw-duplicate",
        "wallet-rollback",
    }
    withdraw = next(p for p in report.probes if p.name == "wallet-withdraw-duplicate")
    assert "the repeated providerTxId answered HTTP 200" in withdraw.got
    assert "not 409" in withdraw.got
    assert "********" not in withdraw.request["body"] or "userToken" in withdraw.request["body"]
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]


def test_wrong_error_codes_fail_the_four_error_code_probes(conformance_world):
    # given
    operator, sandbox, streamer, follower = conformance_world
    _switch(sandbox, "wrong_error_codes")
    # when
    report = conformance_check(operator=operator)
    # then
    assert failed(report) == {
        "streamer-balance-non-streamer",
        "transfer-unknown-user",
        "transfer-non-streamer",
        "transfer-insufficient-balance",
    }
    probe = next(p for p in report.probes if p.name == "transfer-non-streamer")
    assert probe.expected == "HTTP 400 ERR_TRANSFER_FORBIDDEN"
    assert probe.got == "error code ERR_UNKNOWN instead of ERR_TRANSFER_FORBIDDEN"
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]


def test_accepting_bad_signatures_fails_the_three_signature_probes(conformance_world):
    # given
    operator, sandbox, streamer, follower = conformance_world
    _switch(sandbox, "accepts_bad_signatures")
    # when
    report = conformance_check(operator=operator)
    # then: the API key and the timestamp are still checked
    assert failed(report) == {"signature-wrong", "body-changed", "wallet-signature-wrong"}
    probe = next(p for p in report.probes if p.name == "signature-wrong")
    assert probe.got.startswith("accepted a request with a wrong signature: HTTP 200")
    assert verdicts(report)["api-key-wrong"] == PASS
    assert verdicts(report)["wallet-timestamp-window"] == PASS
    assert balances(streamer, follower) == [Decimal("100"), Decimal("50")]


def test_a_hanging_endpoint_is_bounded_by_the_operators_timeout(conformance_world):
    # given: game-pool sleeps 2.5 s, the operator's timeout is 1 s
    operator, sandbox, streamer, follower = conformance_world
    operator.request_timeout_seconds = 1.0
    operator.save(update_fields=["request_timeout_seconds"])
    sandbox_fault_set(operator=sandbox, route="game-pool", mode="timeout_before", latency_ms=2500)
    # when
    report = conformance_check(operator=operator)
    # then
    probe = next(p for p in report.probes if p.name == "game-pool")
    assert failed(report) == {"game-pool"}, [p.got for p in report.probes if p.verdict == FAIL]
    assert "OPEN: no answer: timeout" in probe.got
    assert CallLog.objects.filter(endpoint="game-pool", error_code="ERR_TIMEOUT").count() == 2


def test_check_operator_command_passes_and_records_the_run(conformance_world):
    # given
    operator, *_ = conformance_world
    out = StringIO()
    # when
    call_command("check_operator", "conf", stdout=out)
    # then
    text = out.getvalue()
    assert text.splitlines()[0].split() == ["VERDICT", "PROBE", "DETAIL"]
    assert "PASS    transfer-deposit-idempotent" in text
    assert text.rstrip().endswith(f"{len(ALL_PROBES)} passed, 0 failed, 0 skipped")
    run = ConformanceRun.objects.get()
    assert (run.state, run.passed, run.failed, run.skipped) == ("passed", len(ALL_PROBES), 0, 0)
    assert run.started_by is None and run.finished_at is not None


def test_check_operator_command_exits_1_on_a_fail_with_the_request_to_reproduce(conformance_world):
    # given
    operator, sandbox, *_ = conformance_world
    _switch(sandbox, "accepts_bad_signatures")
    out = StringIO()
    # when
    with pytest.raises(SystemExit) as exit:
        call_command("check_operator", "conf", "--json", stdout=out)
    # then
    assert exit.value.code == 1
    report = json.loads(out.getvalue())
    assert (report["passed"], report["failed"], report["ok"]) == (len(ALL_PROBES) - 3, 3, False)
    wrong = next(p for p in report["probes"] if p["name"] == "signature-wrong")
    assert wrong["verdict"] == "FAIL"
    assert wrong["request"]["method"] == "POST"
    assert wrong["request"]["url"].endswith("/sandbox/conf/copystake/streamer-balance")
    assert wrong["request"]["body"] == '{"userId":"s-1"}'
    assert wrong["request"]["headers"]["X-API-KEY"] != "conf-api-key"  # masked
