"""Backup and restore benchmark: `keyholder db backup` and `db restore` on 100,000 members.

Seeds a database as ``member_lookup.py`` does (10,000 accounts, 100,000 users,
300,000 memberships), then times, each through the real command in a
subprocess: ``keyholder db backup PATH`` while nothing else runs, ``keyholder
db restore PATH`` into a new empty database of the same kind, and ``keyholder
audit verify`` on the restored copy (which must pass). Prints the times and the
backup's size.

    .venv/bin/python benchmarks/backup_restore.py                 # SQLite
    .venv/bin/python benchmarks/backup_restore.py --postgresql    # PostgreSQL (pg_dump)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import member_lookup

from keyholder.db import migrate


def keyholder(url: str, checkpoints: Path, *args: str) -> float:
    # Checkpoints of this run only: another database's would not match this chain.
    env = member_lookup.keyholder_env(url) | {"KEYHOLDER_AUDIT_CHECKPOINT_FILE": str(checkpoints)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "keyholder", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"keyholder {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get(
            "KEYHOLDER_BENCH_POSTGRESQL_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
    )
    parser.add_argument("--accounts", type=int, default=member_lookup.ACCOUNTS)
    parser.add_argument("--users", type=int, default=member_lookup.USERS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="keyholder-backup-bench-") as tmp:
        workdir = Path(tmp)
        checkpoints = workdir / "audit-checkpoints.jsonl"
        with member_lookup.database(args.postgresql, args.postgresql_url, workdir) as source:
            runtime = member_lookup.make_runtime(source)
            migrate.upgrade(runtime.engine, settings=runtime.settings)
            member_lookup.seed(runtime, accounts=args.accounts, users=args.users)
            runtime.close()
            backup = workdir / "keyholder.backup"
            took_backup = keyholder(source, checkpoints, "db", "backup", str(backup))
            (workdir / "restored").mkdir()
            with member_lookup.database(
                args.postgresql, args.postgresql_url, workdir / "restored"
            ) as target:
                took_restore = keyholder(target, checkpoints, "db", "restore", str(backup))
                took_verify = keyholder(target, checkpoints, "audit", "verify")
        engine = "postgresql" if args.postgresql else "sqlite"
        print(
            f"{engine}: {args.users:,} users, {args.accounts * 30:,} memberships; "
            f"backup {took_backup:.1f} s ({backup.stat().st_size / 2**20:.1f} MiB), "
            f"restore {took_restore:.1f} s, audit verify on the copy {took_verify:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
