"""An in-memory operator for saga tests: balances, idempotency and scripted faults.

It behaves as the contracts say (a repeated transfer id replays its answer, a repeated
providerTxId answers 409, a rollback of an unknown withdraw answers 408 and voids the id)
and lets a test script what goes wrong: ``fail("transfer", "timeout_after")`` applies the
next transfer and then loses the answer.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from apps.operators.clients import ERROR, SUCCESS, UNKNOWN, CallResult


class FakeOperator:
    def __init__(
        self, *, streamer_balance: Decimal = Decimal("1000"), wallet: Decimal = Decimal("500")
    ):
        self.streamer_balance: dict[str, Decimal] = defaultdict(lambda: streamer_balance)
        self.wallet: dict[str, Decimal] = defaultdict(lambda: wallet)
        self.withdraws: dict[str, tuple[str, Decimal]] = {}
        self.deposits: dict[str, Decimal] = {}
        self.rollbacks: dict[str, str] = {}
        self.voided: set[str] = set()
        self.transfers: dict[str, CallResult] = {}
        self.pool_state: dict[str, str] = {}
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.calls: list[tuple[str, str]] = []

    # scripting ---------------------------------------------------------------------
    def fail(self, route: str, *modes: str) -> None:
        self.faults[route].extend(modes)

    def _fault(self, route: str) -> str | None:
        return self.faults[route].pop(0) if self.faults[route] else None

    @staticmethod
    def _lost() -> CallResult:
        return CallResult(UNKNOWN, None, error_code="ERR_TIMEOUT", error_message="timeout")

    def _run(self, route: str, apply):
        self.calls.append((route, ""))
        fault = self._fault(route)
        if fault in ("timeout_before", "http_500"):
            return (
                self._lost()
                if fault == "timeout_before"
                else CallResult(UNKNOWN, 500, error_code="ERR_HTTP_500")
            )
        if fault and fault.startswith("refuse:"):
            _, status, code = fault.split(":")
            return CallResult(ERROR, int(status), error_code=code, error_message="scripted refusal")
        result = apply()
        if fault == "timeout_after":
            return self._lost()
        return result

    # wallet ------------------------------------------------------------------------
    def bet(self, *, tx, position):
        user = position.follower.operator_user_id

        def apply():
            if tx.external_id in self.voided:
                return CallResult(ERROR, 403, error_code="ERR_FORBIDDEN")
            if tx.external_id in self.withdraws:
                return CallResult(SUCCESS, 409, already_applied=True)
            if self.wallet[user] < tx.amount:
                return CallResult(ERROR, 402, error_code="ERR_INSUFFICIENT_BALANCE")
            old = self.wallet[user]
            self.wallet[user] -= tx.amount
            self.withdraws[tx.external_id] = (user, tx.amount)
            return CallResult(
                SUCCESS, 200, data={"oldBalance": str(old), "newBalance": str(self.wallet[user])}
            )

        return self._run("withdraw", apply)

    def win(self, *, tx, position):
        user = position.follower.operator_user_id

        def apply():
            if tx.external_id in self.deposits:
                return CallResult(SUCCESS, 409, already_applied=True)
            self.wallet[user] += tx.amount
            self.deposits[tx.external_id] = tx.amount
            return CallResult(SUCCESS, 200, data={"newBalance": str(self.wallet[user])})

        return self._run("deposit", apply)

    def rollback(self, *, tx, debit, position):
        user = position.follower.operator_user_id

        def apply():
            if tx.external_id in self.rollbacks:
                return CallResult(SUCCESS, 409, already_applied=True)
            if debit.external_id not in self.withdraws:
                self.voided.add(debit.external_id)
                return CallResult(ERROR, 408, error_code="ERR_TRANSACTION_NOT_FOUND")
            self.wallet[user] += self.withdraws[debit.external_id][1]
            self.rollbacks[tx.external_id] = debit.external_id
            return CallResult(SUCCESS, 200, data={"newBalance": str(self.wallet[user])})

        return self._run("rollback", apply)

    # callbacks ---------------------------------------------------------------------
    def balance(self, *, pool):
        user = pool.streamer.operator_user_id
        return self._run(
            "streamer-balance",
            lambda: CallResult(
                SUCCESS, 200, data={"balance": str(self.streamer_balance[user]), "currency": "USD"}
            ),
        )

    def balance_of(self, *, streamer):
        user = streamer.operator_user_id
        return self._run(
            "streamer-balance",
            lambda: CallResult(
                SUCCESS,
                200,
                data={"balance": str(self.streamer_balance[user]), "currency": streamer.currency},
            ),
        )

    def transfer(self, *, tx, pool):
        user = pool.streamer.operator_user_id

        def apply():
            if tx.external_id in self.transfers:
                return self.transfers[tx.external_id]
            if tx.kind == "streamer_withdrawal" and self.streamer_balance[user] < tx.amount:
                result = CallResult(ERROR, 400, error_code="ERR_INSUFFICIENT_BALANCE")
            else:
                sign = 1 if tx.kind == "streamer_deposit" else -1
                self.streamer_balance[user] += sign * tx.amount
                result = CallResult(
                    SUCCESS, 200, data={"balance": str(self.streamer_balance[user])}
                )
            self.transfers[tx.external_id] = result
            return result

        return self._run("transfer", apply)

    def game_pool(self, *, pool, state):
        def apply():
            self.pool_state[pool.streamer.operator_user_id] = state
            return CallResult(SUCCESS, 200)

        return self._run("game-pool", apply)
