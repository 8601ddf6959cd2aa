"""``@idempotent`` on any player endpoint: first answers replayed, refusals too, keys never reused."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.core.errors import Conflict
from apps.followers.models import Follower
from apps.transactions.idempotency import INTERRUPTED, idempotent
from apps.transactions.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


class CountingApi(APIView):
    """Answers with how many times it ran; ``fail`` in the body picks how it fails."""

    calls = 0

    @idempotent
    def post(self, request):
        type(self).calls += 1
        if request.data.get("fail") == "refuse":
            raise Conflict("No", code="ERR_NOPE")
        if request.data.get("fail") == "crash":
            raise RuntimeError("connection lost")
        return Response({"calls": type(self).calls}, status=201)


@pytest.fixture
def call(operator):
    CountingApi.calls = 0
    follower = Follower.objects.create(operator=operator, operator_user_id="f-1")
    view = CountingApi.as_view()

    def post(body: dict, key: str | None = "k-1"):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        request = APIRequestFactory().post("/x", body, format="json", **headers)
        force_authenticate(request, user=follower)
        return view(request)

    return post


def test_a_repeat_gets_the_first_answer_without_running_again(call):
    first = call({"a": 1})
    again = call({"a": 1})
    assert (first.status_code, first.data) == (201, {"calls": 1})
    assert (again.status_code, again.data) == (201, {"calls": 1})
    assert CountingApi.calls == 1


def test_without_a_key_every_request_runs(call):
    call({"a": 1}, key=None)
    call({"a": 1}, key=None)
    assert CountingApi.calls == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_refusal_leaves_the_key_untouched(call):
    # when the first request with the key is refused
    first = call({"fail": "refuse"})
    # then the key is free: nothing recorded, and a new request under it runs and is recorded
    assert (first.status_code, first.data["errorCode"]) == (409, "ERR_NOPE")
    assert not IdempotencyRecord.objects.exists()
    again = call({"a": 1})
    assert (again.status_code, again.data) == (201, {"calls": 2})
    assert call({"a": 1}).data == {"calls": 2}


def test_a_key_reused_for_another_body_is_refused(call):
    call({"a": 1})
    refused = call({"a": 2})
    assert refused.status_code == 422
    assert refused.data["errorCode"] == "ERR_IDEMPOTENCY_KEY_REUSED"
    assert CountingApi.calls == 1


def test_an_interrupted_request_burns_its_key_so_nothing_runs_twice(call):
    first = call({"fail": "crash"})  # DRF's handler answers it; the key is burnt meanwhile
    again = call({"fail": "crash"})
    assert first.data["errorCode"] == "ERR_UNKNOWN"
    assert (again.status_code, again.data) == (409, INTERRUPTED)
    assert CountingApi.calls == 1
