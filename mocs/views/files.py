"""PLACEHOLDER: being written; every view answers 404 until then."""

from rest_framework.views import APIView

from lego_api.core.exceptions import NotFound


class _Placeholder(APIView):
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        raise NotFound()


class MocCreateWithFilesView(_Placeholder):
    pass


class MocInitializeView(_Placeholder):
    pass


class FilesInitializeView(_Placeholder):
    pass


class FinalizeView(_Placeholder):
    pass


class FileUploadView(_Placeholder):
    pass


class FileDeleteView(_Placeholder):
    pass


class FileDownloadView(_Placeholder):
    pass
