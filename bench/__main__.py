"""`python -m bench` (`make bench`): every benchmark in turn, each in its own process with its own
throwaway stack, so one that fails does not stop the others. Arguments are passed to each one
(`--quick` for a short run). Exits non-zero when a benchmark failed to run."""

import importlib.util
import subprocess
import sys

from devstack.migrate import PROJECT_ROOT

# In this order; a module that does not exist (yet) is skipped.
BENCHMARKS = [
    "intake",
    "order_cancel",
    "flows",
    "replay_cost",
    "checkout",
    "group_deals",
    "ads",
    "feeds",
]


def main(argv: list[str]) -> int:
    failed: list[str] = []
    for name in BENCHMARKS:
        module = f"bench.{name}"
        if importlib.util.find_spec(module) is None:
            print(f"== {module}: not present, skipped", flush=True)
            continue
        print(f"== {module}", flush=True)
        try:
            code = subprocess.call([sys.executable, "-m", module, *argv], cwd=PROJECT_ROOT)
        except KeyboardInterrupt:
            return 130  # the child got the Ctrl-C too and stopped its own servers
        if code != 0:
            failed.append(f"{module} (exit {code})")
    if failed:
        print(f"== failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"== results in {PROJECT_ROOT / 'bench' / 'results'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
