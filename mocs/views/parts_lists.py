"""PLACEHOLDER: being written; every view answers 404 until then."""

from rest_framework.views import APIView

from lego_api.core.exceptions import NotFound


class _Placeholder(APIView):
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        raise NotFound()


class UploadPartsListAliasView(_Placeholder):
    pass


class UploadPartsListView(_Placeholder):
    pass


class PartsListCollectionView(_Placeholder):
    pass


class PartsListDetailView(_Placeholder):
    pass


class PartsView(_Placeholder):
    pass


class PartsListStatusView(_Placeholder):
    pass
