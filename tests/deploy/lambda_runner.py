"""Serves Lambda invocations from an unzipped package, as the python3.13 runtime would: one process (one cold
start), `handler.lambda_handler(event, context)` per event.

    python -I -S -B tests/deploy/lambda_runner.py UNZIPPED_DIR

Reads one JSON object per stdin line (`{"event": {...}}`) and answers each with one line starting with MARKER and a
JSON object (`{"ok": true, "result": ..., "ms": ...}` or `{"ok": false, "error": ..., "traceback": ...}`). Whatever
the code prints (Zappa's messages, log lines, EMF metrics) goes to stdout between those lines. The first marker line
reports the import ("init phase"). Uses the standard library only: the package must bring everything else.
"""

import json
import os
import sys
import time
import traceback
import uuid

MARKER = "\x1eLAMBDA-RESULT "


class LambdaContext:
    def __init__(self, function_name: str, memory_mb: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2025/01/01/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def answer(payload: dict) -> None:
    sys.stdout.write(MARKER + json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


def main() -> int:
    package = os.path.abspath(sys.argv[1])
    os.chdir(package)
    sys.path.insert(0, package)  # /var/task comes first on Lambda's path
    started = time.perf_counter()
    try:
        import handler  # Lambda's init phase
    except Exception as exc:
        answer({"ok": False, "error": repr(exc), "traceback": traceback.format_exc()})
        return 1
    answer({"ok": True, "ready": True, "ms": (time.perf_counter() - started) * 1000})
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "lego-api-dev")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        context = LambdaContext(function_name, os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048"))
        started = time.perf_counter()
        try:
            result = handler.lambda_handler(request["event"], context)
            reply = {"ok": True, "result": result}
        except Exception as exc:
            reply = {"ok": False, "error": repr(exc), "traceback": traceback.format_exc()}
        reply["ms"] = (time.perf_counter() - started) * 1000
        answer(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
