"""Where the local database is when DATABASE_URL is unset, and what to say when it does not answer.

`make run` and `make db` (tools.devstack) run an embedded PostgreSQL cluster in LOCAL_DIR/postgres; the settings
find it here without importing the tooling: PostgreSQL's own postmaster.pid names the socket directory and port of
the running server. Standard library only at import time (the settings import it before Django is set up).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

DATABASE = "lego"
CLUSTER_DIR = "postgres"  # under LOCAL_DIR
ENV_FILE = "env.sh"  # under LOCAL_DIR: the `export` lines of `make run`/`make db` while they run


def database_url(socket_dir: Path, port: int, database: str = DATABASE) -> str:
    """A URL with the socket directory percent-encoded as host: dj_database_url puts it in HOST."""
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}:{port}/{quote(database)}"


def default_database_url(local_dir: Path, database: str = DATABASE) -> str:
    """DATABASE_URL of the cluster `make run` runs in `local_dir`/postgres (for manage.py in another terminal).

    Computed only (nothing is started): the socket directory and port come from postmaster.pid (its 4th and 5th
    lines) when the server runs, else the cluster directory and 5432, which the error message then names.
    """
    pgdata = Path(local_dir).expanduser().resolve() / CLUSTER_DIR
    socket_dir, port = pgdata, 5432
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        port, socket_dir = int(lines[3]), Path(lines[4])
    except (OSError, ValueError, IndexError):
        pass
    return database_url(socket_dir, port, database)


def database_unreachable_message() -> str | None:
    """None when Django's default database answers; else one line saying where it was looked for and the fix.

    For `manage.py` (runserver, migrate, ...), which would otherwise print a driver traceback. Needs Django set up.
    """
    from django.conf import settings
    from django.db import OperationalError, connections

    connection = connections["default"]
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[0]
    else:
        return None
    finally:
        connection.close()
    db = connection.settings_dict
    where = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}, database {db['NAME']}"
    if settings.ENVIRONMENT != "local":
        fix = "check DATABASE_URL and that the database accepts connections"
    elif os.environ.get("DATABASE_URL"):
        fix = f"start that server or fix DATABASE_URL (`make run` and `make stack` write theirs to .local/{ENV_FILE})"
    else:
        fix = "start it with `make run` (or `make db` for the database alone), or set DATABASE_URL"
    return f"database not reachable at {where} ({reason}): {fix}"
