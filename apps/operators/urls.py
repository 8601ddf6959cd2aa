from django.urls import path

from apps.operators.apis import PlayerInitApi, PlayerInitDemoApi, TransactionStatusApi

app_name = "copystake"

urlpatterns = [
    path("init", PlayerInitApi.as_view(), name="init"),
    path("init-demo", PlayerInitDemoApi.as_view(), name="init-demo"),
    path("transaction-status", TransactionStatusApi.as_view(), name="transaction-status"),
]
