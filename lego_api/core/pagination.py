"""Page/limit pagination with the SPEC §1.7 rules: validated (never clamped), `totalPages`, stable order."""

from __future__ import annotations

import math
from typing import Any

from rest_framework.pagination import BasePagination

from lego_api.core.envelope import success
from lego_api.core.query import query_int


def page_meta(total: int, page: int, limit: int) -> dict[str, int]:
    return {"total": total, "page": page, "limit": limit, "totalPages": math.ceil(total / limit) if total else 0}


class PagePagination(BasePagination):
    default_limit = 20
    max_limit = 100

    def get_page_params(self, request) -> tuple[int, int]:
        page = query_int(request, "page", default=1, minimum=1)
        limit = query_int(request, "limit", default=self.default_limit, minimum=1, maximum=self.max_limit)
        return page, limit

    def paginate_queryset(self, queryset, request, view=None):
        self.page, self.limit = self.get_page_params(request)
        self.total = queryset.count()
        start = (self.page - 1) * self.limit
        if start >= self.total:
            return []
        return list(queryset[start : start + self.limit])

    def get_paginated_response(self, data: Any):
        return success(data, **page_meta(self.total, self.page, self.limit))

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["success", "data", "total", "page", "limit", "totalPages", "timestamp"],
            "properties": {
                "success": {"type": "boolean"},
                "data": schema,
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "limit": {"type": "integer"},
                "totalPages": {"type": "integer"},
                "timestamp": {"type": "string", "format": "date-time"},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            },
        ]
