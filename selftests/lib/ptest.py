"""Helpers for the Python VM tests: assertions that say what failed, and the
kselftest exit codes (0 pass, 4 skip, 1 fail)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfkey  # noqa: E402

# Every test starts from empty tables, whatever the one before it left.
pfkey.flush_all()

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def done(summary):
    print(f"{summary} ({checks} checks)")
    sys.exit(0)


def wait_until(pred, what, timeout=60.0, interval=0.05, show=None):
    """Polls pred() until it returns a true value, which it returns: a
    readiness wait, not a sleep. Fails the test loudly with `what` (and
    `show()`, the state it ended in, if given) if that has not happened
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            now = f" (now: {show()})" if show else ""
            check(False, f"{what}: still not so after {timeout:g}s{now}")
        time.sleep(interval)
