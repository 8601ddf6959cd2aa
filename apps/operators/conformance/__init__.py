"""The operator conformance check: signed probes against an operator's real endpoints.

``probes`` holds the probes (one small function each), ``suite`` runs them and restores the
balances, ``report`` is what they return, ``services`` stores runs, ``signing`` explains a
signature (the ``sign`` command).
"""
