"""Load tests (issue 12): Locust scenarios (locustfile, scenarios), the runner that starts the local stack or aims
at a deployed stage (run; `python -m tools.load load|max|fault`), and the report: summary, cost (prices in one
place), chart, logs. Dev-only: never imported by lego_api or the apps, never shipped."""
