"""Public AWS list prices the cost report uses: us-east-1, x86_64, on-demand, USD, without the free tier. Every price
the project quotes is here, with the date it was recorded; update the date with the figures.

Sources: https://aws.amazon.com/lambda/pricing/ (duration, requests; SnapStart for Python and .NET, priced since
November 2024) and https://aws.amazon.com/api-gateway/pricing/ (REST APIs). Recorded without access to those pages
from this machine (no AWS endpoints are reachable here): the published figures as known, the SnapStart ones checked
against secondary write-ups of them. Check them against the pages before quoting a bill.
"""

PRICES_AS_OF = "2026-12-07"
REGION = "us-east-1"

# Lambda, x86_64: per GB-second of billed duration (first 6 billion GB-s a month) and per request.
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_PER_MILLION_REQUESTS = 0.20
# Lambda SnapStart (Python and .NET runtimes): the cached snapshot, per GB-second of the function's memory while
# the version is active (at least 3 hours), and each restore, per GB of memory restored.
SNAPSTART_CACHE_GB_SECOND = 0.0000015046
SNAPSTART_CACHE_MINIMUM_SECONDS = 3 * 3600
SNAPSTART_RESTORE_PER_GB = 0.0001397998
# API Gateway REST API (what Zappa creates): per million requests, first 333 million a month.
APIGW_REST_PER_MILLION = 3.50
