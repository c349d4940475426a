"""gunicorn's settings for `make stack WORKERS=N` (`--config python:tools.devstack.gunicorn_conf`).

gunicorn writes `Server: gunicorn` on every response and has no setting to leave it out. SPEC §2.5 forbids a Server
header (Lambda behind API Gateway sends none, and runserver's is removed too), so the response's default headers
drop it here; this module runs in the master before the workers fork.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self: wsgi.Response) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header
