"""Development and deployment tooling: the local services (`tools.devstack`) and the Lambda package builder and
deployer (`tools.packaging`). Never shipped: the Lambda zip leaves this folder out, and the runtime package
(`lego_api` and the apps) does not import it (an import-linter contract in pyproject.toml)."""
