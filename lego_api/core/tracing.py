"""X-Ray subsegments for database, S3 and search calls (SPEC §8 `XRAY_ENABLED`).

Lambda's active tracing (`xray_tracing: true` in zappa_settings.json) records each invocation. With XRAY_ENABLED the
X-Ray SDK adds subsegments under it: one per SQL query (Django's database cursors), one per botocore call (S3,
Secrets Manager, Lambda invoke) and one per OpenSearch request (`opensearch`, with method and URL). The SDK's
`httplib` patch cannot see the search calls: urllib3 2 sends requests without http.client's `_send_request`, so the
OpenSearch transport is wrapped here instead. `XRayMiddleware` wraps each request in a subsegment named after the
service (a segment of its own off Lambda) and annotates it, so that traces can be searched by them:

- `userId`: the caller's Cognito `sub` (absent for an anonymous request);
- `operation`: the method and the route's name, e.g. `GET moc-detail` (never the raw path, which holds ids);
  `GET unrouted` for a path no route matches;
- `status`: the response's status code.

Lambda's own segment (a facade the SDK may not change) takes no annotation: they go on the request subsegment.

`install()` runs from the core app's `ready()` and the middleware is added by settings, both only when XRAY_ENABLED,
so the SDK is not even imported otherwise.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.urls import Resolver404, resolve

_installed = False
_lock = threading.Lock()


def install() -> None:
    """Configure the recorder and patch botocore, http.client and Django's database cursors (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from aws_xray_sdk.core import patch, xray_recorder
        from aws_xray_sdk.ext.django.db import patch_db

        xray_recorder.configure(
            service=f"lego-api-{settings.ENVIRONMENT}",
            context_missing="IGNORE_ERROR",  # management commands off Lambda have no segment: trace nothing
            plugins=(),
            stream_sql=False,  # query text stays out of traces (it may carry user input)
        )
        patch(("botocore",))
        patch_db()
        _trace_opensearch(xray_recorder)
        _installed = True


def _trace_opensearch(recorder) -> None:
    import wrapt

    def describe(wrapped, instance, args, kwargs, return_value, exception, subsegment, stack) -> None:
        method = args[0] if args else kwargs.get("method")
        url = args[1] if len(args) > 1 else kwargs.get("url")
        subsegment.put_http_meta("method", method)
        subsegment.put_http_meta("url", url)
        if exception is not None:
            subsegment.add_exception(exception, stack)

    def perform_request(wrapped, instance, args, kwargs):
        return recorder.record_subsegment(
            wrapped, instance, args, kwargs, name="opensearch", namespace="remote", meta_processor=describe
        )

    wrapt.wrap_function_wrapper("opensearchpy.transport", "Transport.perform_request", perform_request)


class XRayMiddleware:
    """The SDK's Django middleware (subsegment per request on Lambda), installing the patches first."""

    def __init__(self, get_response):
        install()
        from aws_xray_sdk.ext.django.middleware import XRayMiddleware as SdkMiddleware

        class RequestSubsegment(SdkMiddleware):
            def _urls_as_annotation(self) -> bool:
                return False  # the SDK would index the raw URL (ids) and the client IP on Lambda: ours instead

        self.get_response = get_response
        self._middleware = RequestSubsegment(self._annotated)

    def __call__(self, request):
        from aws_xray_sdk.core import xray_recorder

        if self._middleware.in_lambda_ctx and xray_recorder.current_segment() is None:
            return self.get_response(request)  # an untraced invocation: nothing to hang a subsegment on
        return self._middleware(request)

    def _annotated(self, request):
        """Inside the SDK middleware's (sub)segment: run the request, then annotate that entity."""
        from aws_xray_sdk.core import xray_recorder

        response = self.get_response(request)
        entity = (
            xray_recorder.current_subsegment() if self._middleware.in_lambda_ctx else xray_recorder.current_segment()
        )
        if entity is not None:
            for key, value in request_annotations(request, response.status_code).items():
                entity.put_annotation(key, value)
        return response


def request_annotations(request, status: int) -> dict[str, str | int]:
    """`userId` (when authenticated), `operation` (method and route name) and `status` for one request."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered before routing (a rate limit, the body cap) or no route at all
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            match = None
    annotations: dict[str, str | int] = {
        "operation": f"{request.method} {match.view_name if match is not None else 'unrouted'}",
        "status": status,
    }
    result = getattr(request, "auth_result", None)
    if result is not None and result.user is not None:
        annotations["userId"] = str(result.user.id)
    return annotations
