"""PLACEHOLDER: being written; every view answers 404 until then."""

from rest_framework.views import APIView

from lego_api.core.exceptions import NotFound


class _Placeholder(APIView):
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        raise NotFound()


class MocListCreateView(_Placeholder):
    pass


class MocSearchView(_Placeholder):
    pass


class StatsByCategoryView(_Placeholder):
    pass


class StatsUploadsOverTimeView(_Placeholder):
    pass


class MocDetailView(_Placeholder):
    pass


class PartsListSummaryView(_Placeholder):
    pass
