"""The ledger checks of a reconciliation run, one module per finding kind (balance findings
from readings: ``balances``)."""
