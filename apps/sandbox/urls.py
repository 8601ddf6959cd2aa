"""Mounted at ``sandbox/`` when settings.SANDBOX_ENABLED.

An operator configured against the sandbox uses ``callback_url = <base>/sandbox/<slug>/copystake``
and ``wallet_url = <base>/sandbox/<slug>/wallet``.
"""

from django.urls import path

from apps.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path(
        "<slug:slug>/copystake/streamer-balance",
        views.streamer_balance,
        name="streamer-balance",
    ),
    path("<slug:slug>/copystake/transfer", views.transfer, name="transfer"),
    path("<slug:slug>/copystake/game-pool", views.game_pool, name="game-pool"),
    path("<slug:slug>/wallet/auth", views.wallet_auth, name="wallet-auth"),
    path("<slug:slug>/wallet/withdraw", views.wallet_withdraw, name="wallet-withdraw"),
    path("<slug:slug>/wallet/deposit", views.wallet_deposit, name="wallet-deposit"),
    path("<slug:slug>/wallet/rollback", views.wallet_rollback, name="wallet-rollback"),
    path("<slug:slug>/cashout", views.cashout, name="cashout"),
]
