"""Test-only URLconf: the real routes plus a few probe routes for core behaviour (never served by the app)."""

from django.db import transaction
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny

from lego_api.core.envelope import success
from lego_api.core.routing import route
from lego_api.core.tasks import task
from lego_api.urls import handler400, handler403, handler404, handler500  # noqa: F401
from lego_api.urls import urlpatterns as app_urlpatterns

TASK_RUNS: list[str] = []


@task
def record_task_run(value: str) -> None:
    TASK_RUNS.append(value)


class EchoSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=10)
    parts_count = serializers.IntegerField(min_value=1)


@api_view(["GET", "POST", "PATCH", "DELETE"])
def echo_view(request):
    body = None
    if request.method == "POST":
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
    return success({"user_id": request.user.id, "token_use": request.user.token_use, "body": body})


@api_view(["POST"])
@parser_classes([MultiPartParser])
def multipart_view(request):
    return success({"fields": sorted(request.data.keys())}, status=201)


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def public_view(request):
    return success({"ok": True})


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def boom_view(request):
    raise RuntimeError("SELECT secret FROM internals -- must never reach the client")


@api_view(["POST"])
def enqueue_view(request):
    with transaction.atomic():
        record_task_run.delay(request.user.id)
        queued_before_commit = list(TASK_RUNS)
    return success({"ran_before_commit": request.user.id in queued_before_commit}, status=201)


urlpatterns = [
    route("api/test/echo", echo_view, "test-echo"),
    route("api/test/multipart", multipart_view, "test-multipart"),
    route("api/test/public", public_view, "test-public"),
    route("api/test/boom", boom_view, "test-boom"),
    route("api/test/enqueue", enqueue_view, "test-enqueue"),
    *app_urlpatterns,
]
