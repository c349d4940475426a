"""DRF renderer and content negotiation: every API response is the JSON envelope, whatever `Accept` says."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

from lego_api.core.envelope import SuccessBody, encode, finish_body
from lego_api.core.parsers import parse_empty_bodies


class EnvelopeJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, SuccessBody):  # rendered once, stored by the response cache: only the timestamp is new
            return data.render()
        if not (isinstance(data, dict) and "success" in data):
            data = {"success": True, "data": data}
        return encode(finish_body(data))


class IgnoreAcceptNegotiation(DefaultContentNegotiation):
    """SPEC §1.8: `Accept` is ignored. An explicit `?format=` (the OpenAPI view's) is still honoured.

    DRF negotiates once per request before the view runs, and this class is the project's negotiation for every
    view, so it is also where an empty body is handed to the parsers (`parse_empty_bodies`, SPEC §1.8).
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        parse_empty_bodies(request)
        requested = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        # A format no renderer offers is ignored like any unknown query value (DRF would answer 404), and `Accept`
        # never narrows the choice (DRF would answer 406).
        matching = [renderer for renderer in renderers if requested and renderer.format == requested]
        renderer = (matching or renderers)[0]
        return renderer, renderer.media_type
