"""A small, real HTTP operator for tests and benchmarks (both contracts, the routes we call).

It listens on 127.0.0.1 in a thread of the calling process (``ThreadingHTTPServer``,
HTTP/1.1 keep-alive), checks both signature schemes, and behaves as the contracts say: a
repeated transfer ``id`` replays its first answer, a repeated wallet ``providerTxId``
answers 409, a rollback of an unknown withdraw answers 408. Tests script it:

* ``balances[user_id] = Decimal(...)``: streamer balances (``default_balance`` otherwise);
* ``hang("transfer")``: the next transfer is applied, then its answer is held until
  ``release()`` (the operator moved the money, the caller never hears back);
* ``latency[route] = seconds``: answer slowly (a slow operator);
* ``max_in_flight``: the most requests it ever handled at once (bounded-connection tests).

Unlike the sandbox app it needs no database, so a Celery worker in another process and the
test process can both talk to it while the test owns the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from apps.core.wire import dumps, loads
from apps.operators.signatures import copystake_verify, wallet_verify


class FakeOperatorServer:
    def __init__(
        self,
        *,
        secret: str = "s",
        api_key: str = "ok",
        wallet_secret: str = "ws",
        default_balance: Decimal = Decimal("1000"),
        wallet_balance: Decimal = Decimal("500"),
        prefix: str = "",
    ):
        self.secret = secret
        self.api_key = api_key
        self.wallet_secret = wallet_secret
        self.prefix = prefix.rstrip("/")
        self.balances: dict[str, Decimal] = defaultdict(lambda: default_balance)
        self.wallets: dict[str, Decimal] = defaultdict(lambda: wallet_balance)
        self.transfers: dict[str, tuple[int, dict]] = {}
        self.wallet_txs: dict[str, dict] = {}
        self.voided: set[str] = set()
        self.pool_state: dict[str, str] = {}
        self.latency: dict[str, float] = {}
        self.requests: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._hangs: Counter[str] = Counter()
        self.hanging = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> FakeOperatorServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeOperatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's bound address
        return f"http://{host}:{port}{self.prefix}"

    @property
    def callback_url(self) -> str:
        return f"{self.base_url}/cb"

    @property
    def wallet_url(self) -> str:
        return f"{self.base_url}/wallet"

    # --- scripting ------------------------------------------------------------------
    def hang(self, route: str, times: int = 1) -> None:
        """Apply the next ``times`` calls of ``route`` but hold their answers until release()."""
        self._release.clear()
        self.hanging.clear()
        self._hangs[route] += times

    def release(self) -> None:
        self._release.set()

    # --- routes ---------------------------------------------------------------------
    def handle(self, route: str, body: bytes, headers) -> tuple[int, bytes]:
        if route in ("streamer-balance", "transfer", "game-pool"):
            if headers.get("X-API-KEY") != self.api_key or not copystake_verify(
                self.secret, body, headers.get("X-REQUEST-SIGNATURE")
            ):
                return 401, b'{"errorCode":"ERR_UNAUTHORIZED","errorMessage":"bad signature"}'
        elif route.startswith("wallet/"):
            url = f"{self.prefix}/{route}"
            if not wallet_verify(
                self.wallet_secret,
                url,
                headers.get("X-VC-Client-TS"),
                body,
                headers.get("X-VC-Client-Signature"),
            ):
                return 403, b'{"code":403,"message":"bad signature","data":null}'
        else:
            return 404, b"{}"
        data = loads(body) if body else {}
        with self._lock:
            return getattr(self, "_" + route.replace("/", "_").replace("-", "_"))(data)

    def _streamer_balance(self, data: dict) -> tuple[int, bytes]:
        user = str(data["userId"])
        return 200, dumps({"balance": self.balances[user], "currency": data.get("currency", "")})

    def _transfer(self, data: dict) -> tuple[int, bytes]:
        if data["id"] in self.transfers:
            status, answer = self.transfers[data["id"]]
            return status, dumps(answer)
        user, amount = str(data["userId"]), Decimal(str(data["amount"]))
        if data["type"] == "WITHDRAWAL" and self.balances[user] < amount:
            answer = {"errorCode": "ERR_INSUFFICIENT_BALANCE", "errorMessage": "balance"}
            self.transfers[data["id"]] = (400, answer)
            return 400, dumps(answer)
        self.balances[user] += amount if data["type"] == "DEPOSIT" else -amount
        answer = {"balance": self.balances[user], "currency": data["currency"]}
        self.transfers[data["id"]] = (200, answer)
        return 200, dumps(answer)

    def _game_pool(self, data: dict) -> tuple[int, bytes]:
        self.pool_state[str(data["userId"])] = data["state"]
        return 200, b""

    def _wallet_move(self, data: dict, sign: int) -> tuple[int, bytes]:
        tx_id = data["providerTxId"]
        if tx_id in self.wallet_txs:
            return 409, b'{"code":409,"message":"exists","data":null}'
        user, amount = str(data["userId"]), Decimal(str(data["amount"]))
        if sign < 0 and tx_id in self.voided:
            return 403, b'{"code":403,"message":"voided","data":null}'
        if sign < 0 and self.wallets[user] < amount:
            return 402, b'{"code":402,"message":"insufficient","data":null}'
        old = self.wallets[user]
        self.wallets[user] += sign * amount
        record = {
            "clientTxId": f"c-{tx_id}",
            "providerTxId": tx_id,
            "oldBalance": old,
            "newBalance": self.wallets[user],
            "userId": user,
            "currency": data["currency"],
        }
        self.wallet_txs[tx_id] = record
        return 200, dumps({"code": 200, "message": "", "data": record})

    def _wallet_withdraw(self, data: dict) -> tuple[int, bytes]:
        return self._wallet_move(data, -1)

    def _wallet_deposit(self, data: dict) -> tuple[int, bytes]:
        return self._wallet_move(data, +1)

    def _wallet_rollback(self, data: dict) -> tuple[int, bytes]:
        original = data["rollbackProviderTxId"]
        if data["providerTxId"] in self.wallet_txs:
            return 409, b'{"code":409,"message":"exists","data":null}'
        if original not in self.wallet_txs:
            self.voided.add(original)
            return 408, b'{"code":408,"message":"not found","data":null}'
        return self._wallet_move(data, +1)

    # --- bookkeeping ----------------------------------------------------------------
    def _enter(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _should_hang(self, route: str) -> bool:
        with self._lock:
            if self._hangs[route] > 0:
                self._hangs[route] -= 1
                return True
            return False


def _handler_for(server: FakeOperatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK stall every keep-alive answer by ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - quiet
            return

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            if server.prefix and path.startswith(server.prefix):
                path = path[len(server.prefix) :]
            route = path.removeprefix("/cb/").removeprefix("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server._enter(route)
            try:
                delay = server.latency.get(route)
                if delay:
                    time.sleep(delay)
                try:
                    status, payload = server.handle(route, body, self.headers)
                except (KeyError, ValueError, json.JSONDecodeError):
                    status, payload = 400, b'{"errorCode":"ERR_UNKNOWN","errorMessage":"bad"}'
                if server._should_hang(route):
                    server.hanging.set()
                    server._release.wait(timeout=120)
                    self.close_connection = True
                    return  # the money moved; the answer is never sent
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                server._leave()

    return Handler
