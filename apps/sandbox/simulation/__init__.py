"""Deterministic fault simulation: a seeded history of money moves against the sandbox
operator, with faults and crashes on every outbound route, then recovery and invariants.

* ``world``: operators wired to sandbox operators, streamers live, followers with wallets.
* ``transport``: every outbound call reaches the sandbox in-process, with seeded faults
  (timeouts before and after the operator applied a call, 500s, dropped and malformed
  answers, slow answers) and crashes of our process before or after a call.
* ``moves``: joins, leaves, streamer wins and losses, busts, stream ends and restarts, worker
  resume passes; one class per move.
* ``invariants``: what must hold after recovery; one function per invariant.
* ``runner``: ``simulate(SimulationConfig(seed=...))`` plays, recovers, checks and reports.

``manage.py simulate`` runs it from the command line; ``apps/sandbox/tests/test_simulation.py``
runs a few seeds in CI. The same seed replays the same history.
"""

from apps.sandbox.simulation.runner import SimulationConfig, SimulationReport, simulate

__all__ = ["SimulationConfig", "SimulationReport", "simulate"]
