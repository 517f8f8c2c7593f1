#!/usr/bin/env python3
"""Interleaved natsbench runs for BENCHMARKS.md: every round starts each server fresh (own
store directory), runs one natsbench load against it, stops it, and alternates the order of
the servers from round to round; prints medians and the per-round ratios to the last server.

  bench/interleave.py ROUNDS POLICY BIN [BIN ...] -- <natsbench arguments>

POLICY is `default` (a `jetstream {store_dir}` config) or `lazy` (natrium also gets
`sync_interval: "2m"`, nats-server's own policy; nats-server is never given it). natsbench
comes from ../shared/bench (NATSBENCH overrides). Uses port 14998 on 127.0.0.1.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 14998
NATSBENCH = os.environ.get(
    "NATSBENCH", os.path.join(tempfile.gettempdir(), "natrium-bench/build/natsbench"))


def run_once(binary, policy, args):
    """One fresh server, one natsbench run: (msgs/s, server us/msg, client us/msg)."""
    with tempfile.TemporaryDirectory() as store:
        config = os.path.join(store, "server.conf")
        lazy = ', sync_interval: "2m"' if policy == "lazy" and "nats-server" not in binary else ""
        with open(config, "w") as out:
            out.write(f'listen: 127.0.0.1:{PORT}\njetstream {{ store_dir: "{store}"{lazy} }}\n')
        server = subprocess.Popen([binary, "-c", config],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            done = subprocess.run(
                [NATSBENCH, *args, "-pid", str(server.pid), "-url", f"nats://127.0.0.1:{PORT}"],
                capture_output=True, text=True, timeout=180)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            return (0.0, 0.0, 0.0)
        finally:
            server.terminate()
            server.wait()
    msgs = max(1, result.get("msgs", 1))
    return (result.get("msgs_per_sec", 0.0), result.get("srv_cpu_us_per_msg", 0.0),
            result.get("cli_cpu_s", 0.0) / msgs * 1e6)


def main():
    split = sys.argv.index("--")
    head, args = sys.argv[1:split], sys.argv[split + 1:]
    rounds, policy, binaries = int(head[0]), head[1], head[2:]
    results = {binary: [] for binary in binaries}
    for number in range(rounds):
        for binary in binaries if number % 2 == 0 else binaries[::-1]:
            results[binary].append(run_once(binary, policy, args))
    last = results[binaries[-1]]
    for binary in binaries:
        rates = [r[0] for r in results[binary]]
        ratios = [r[0] / max(1.0, l[0]) for r, l in zip(results[binary], last)]
        print(f"{binary:28s} median {statistics.median(rates):10.0f} msgs/s  "
              f"server {statistics.median(r[1] for r in results[binary]):6.2f} us/msg  "
              f"client {statistics.median(r[2] for r in results[binary]):6.2f} us/msg  "
              f"ratio to last {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f})  {[round(r) for r in rates]}")


if __name__ == "__main__":
    main()
