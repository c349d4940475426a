"""`manage.py runserver` for this project (and `make run`/`make stack`, which use it): whitenoise's no-static
runserver, plus no `Server` header on any response (SPEC §2.5), and a one-line message naming the fix, instead of
a driver traceback and a server left running without listening, when the database is not reachable."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.core.servers import basehttp
from whitenoise.runserver_nostatic.management.commands.runserver import Command as NoStaticRunserverCommand

from lego_api.local_database import database_unreachable_message


class _NoServerHeaderHandler(basehttp.ServerHandler):
    server_software = None  # wsgiref sends `Server: WSGIServer/0.2 CPython/3.x` when this is set


class _NoServerHeaderRequestHandler(basehttp.WSGIRequestHandler):
    server_version = sys_version = ""  # also what the request's SERVER_SOFTWARE says

    def send_response(self, code: int, message: str | None = None) -> None:
        """http.server's own answers (a malformed request line, 414): its send_response minus the Server header."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def handle_one_request(self) -> None:
        """Django's, with the handler above (Django names its ServerHandler inside this method)."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error answer has been sent
            return
        handler = _NoServerHeaderHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ())
        handler.request_handler = self  # back-pointer for logging and connection closing
        handler.run(self.server.get_app())


class NoServerHeaderWSGIServer(basehttp.WSGIServer):
    def __init__(self, server_address, request_handler_class, *args, **kwargs) -> None:
        super().__init__(server_address, _NoServerHeaderRequestHandler, *args, **kwargs)


class Command(NoStaticRunserverCommand):
    server_cls = NoServerHeaderWSGIServer

    def handle(self, *args, **options) -> None:
        # Checked before the autoreloader starts: a failure ends the command instead of leaving a process that
        # watches files but never listens.
        problem = database_unreachable_message()
        if problem is not None:
            raise CommandError(problem)
        super().handle(*args, **options)
