"""Where the settings look for `make run`'s database when DATABASE_URL is unset (README: "Against make run's
database: nothing to set"): the running cluster's own postmaster.pid under LOCAL_DIR, read without the tooling."""

from __future__ import annotations

import dj_database_url

from lego_api.local_database import default_database_url


def test_a_running_cluster_is_found_by_its_postmaster_pid(services):
    """The harness's cluster is one `make run` would start (tools.devstack): its URL is the one the settings find."""
    local_dir = services.postgres.pgdata.parent

    assert default_database_url(local_dir) == services.postgres.env["DATABASE_URL"]


def test_without_a_running_cluster_the_cluster_directory_is_named(tmp_path):
    database = dj_database_url.parse(default_database_url(tmp_path))

    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        str(tmp_path.resolve() / "postgres"),
        5432,
        "lego",
    )
