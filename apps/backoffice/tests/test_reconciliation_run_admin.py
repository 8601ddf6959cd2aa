"""A reconciliation run's page shows what it checked and found as tables, not JSON."""

import pytest
from django.urls import reverse

from apps.backoffice.tests.admin_world import superuser
from apps.transactions.models import ReconciliationRun

pytestmark = pytest.mark.django_db


def test_a_runs_figures_read_as_a_table(client, operator):
    run = ReconciliationRun.objects.create(
        operator=operator,
        status=ReconciliationRun.Status.FINISHED,
        checked={
            "balances_read": 4,
            "pools_priced_during_read": 1,
            "readings_retried": 1,
            "balance_errors": {"ERR_TIMEOUT": 2},
            "window_start": None,
        },
        found={"balance_mismatch": {"seen": 1, "opened": 1}},
    )
    client.force_login(superuser())

    page = client.get(reverse("admin:transactions_reconciliationrun_change", args=[run.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="run-figures"') == 2
    assert '<th scope="row">Balances read</th><td class="cp-num">4</td>' in html
    assert '<th scope="row">Readings retried</th><td class="cp-num">1</td>' in html
    assert "ERR TIMEOUT 2" in html
    assert '<th scope="row">Balance mismatch</th><td class="cp-num">seen 1, opened 1</td>' in html
    assert "{&quot;balances_read&quot;" not in html  # not the raw JSON
