"""Finance: CopyStake's fees to operators, monthly invoices and the double-entry journal.

* ``models``: the fee schedule, invoices and credit notes, the journal's accounts and entries.
* ``journal``: the one place that says which accounts each money movement posts to.
"""
