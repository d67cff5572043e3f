"""CLI start-up benchmark: how long `keyholder --help` and `keyholder members list` take.

Every operator command pays the start-up (Python, the imports, reading the
settings) before it does anything, so it should be well under a second
(issue 16: under 0.5 s on a quiet machine). This runs each command
``--runs`` times, hyperfine-style (one warm-up run first, so the file cache is
warm), and prints the median and the minimum wall time.

    .venv/bin/python benchmarks/cli_start.py
    .venv/bin/python benchmarks/cli_start.py --runs 20 --src /tmp/old/src   # another tree

``members list`` needs a database with an account: the script migrates a
SQLite file in a temporary directory and loads the demo data into it
(``keyholder db upgrade``, ``keyholder demo``; not timed), then lists
``acme-corp``'s members. ``--src`` puts another source tree first on
PYTHONPATH (to compare with an older commit exported by ``git archive``).
The load average is printed with the numbers: on a busy machine both grow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "keyholder --help": ["--help"],
    "keyholder members list --account acme-corp": ["members", "list", "--account", "acme-corp"],
}


def keyholder(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "keyholder", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def timed_runs(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    keyholder(args, env)  # warm-up: file cache, .pyc files
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        keyholder(args, env)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--src", type=Path, help="source tree to put first on PYTHONPATH")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keyholder-cli-start-") as directory:
        env = {
            **os.environ,
            "KEYHOLDER_ENV": "development",
            "KEYHOLDER_DATABASE_URL": f"sqlite:///{directory}/cli_start.db",
        }
        # An installed Keyholder runs from bytecode (pip compiles it; an editable
        # install writes it on the first run). With this set, as on some CI and
        # sandbox machines, every run would compile our ~60 modules again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if options.src is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(options.src.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        keyholder(["db", "upgrade"], env)
        keyholder(["demo"], env)
        print(
            f"{options.runs} runs each; {os.cpu_count()} CPUs, load average before "
            f"{os.getloadavg()[0]:.2f}"
        )
        for name, args in COMMANDS.items():
            seconds = timed_runs(args, env, options.runs)
            print(
                f"  {name:45} median {statistics.median(seconds):5.2f} s   "
                f"min {min(seconds):5.2f} s"
            )
        print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
