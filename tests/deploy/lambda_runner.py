"""Serves Lambda invocations from an unzipped package, as the python3.13 runtime would: one process (one cold
start), `handler.lambda_handler(event, context)` per event.

    python -I -S -B tests/deploy/lambda_runner.py UNZIPPED_DIR

Reads one JSON object per stdin line (`{"event": {...}}`) and answers each with one line starting with MARKER and a
JSON object (`{"ok": true, "result": ..., "ms": ...}` or `{"ok": false, "error": ..., "traceback": ...}`). Whatever
the code prints (Zappa's messages, log lines, EMF metrics) goes to stdout between those lines. The first marker line
reports the import ("init phase"). Uses the standard library only: the package must bring everything else.

`{"snapshot": true}` plays a SnapStart snapshot and restore: the before-snapshot hooks registered with
snapshot_restore_py run in reverse order of registration (as Lambda runs them), one line reports the sockets
(`/proc/self/fd`) and threads then left, and the process forks. The parent then only waits for the child; the child
("the restored instance") runs the after-restore hooks in order, answers, and serves the following events.
"""

import hashlib
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
        if request.get("snapshot"):
            if snapshot_and_restore():
                continue
            return 0
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


def open_sockets() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the directory's own descriptor, closed by now
        if target.startswith("socket:"):
            found.append(f"{fd} -> {target}")
    return found


def snapshot_and_restore() -> bool:
    """True in the restored child, False in the parent once the child is done."""
    import threading

    import snapshot_restore_py

    started = time.perf_counter()
    try:
        for hook, args, kwargs in reversed(snapshot_restore_py._before_snapshot_registry):
            hook(*args, **kwargs)
    except Exception as exc:
        answer({"ok": False, "error": repr(exc), "traceback": traceback.format_exc()})
        return False
    report = {
        "hooks": len(snapshot_restore_py._before_snapshot_registry),
        "sockets": open_sockets(),
        "threads": [t.name for t in threading.enumerate()],
    }
    answer({"ok": True, "result": report, "ms": (time.perf_counter() - started) * 1000})
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return False
    started = time.perf_counter()
    try:
        for hook, args, kwargs in snapshot_restore_py._after_restore_registry:
            hook(*args, **kwargs)
    except Exception as exc:
        answer({"ok": False, "error": repr(exc), "traceback": traceback.format_exc()})
        os._exit(1)
    from django.conf import settings

    report = {
        "pid": os.getpid(),
        "hooks": len(snapshot_restore_py._after_restore_registry),
        "secret_key_sha256": hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest(),
    }
    answer({"ok": True, "result": report, "ms": (time.perf_counter() - started) * 1000})
    return True


if __name__ == "__main__":
    sys.exit(main())
