import argparse
import json
import os
import platform
import subprocess

from bench import (
    archive,
    beat_cost,
    checkin_burst,
    checkin_cost,
    directory_sync,
    evidence,
    exam_burst,
    factsize,
    heartbeat,
    memory,
    org_import,
    partitions,
    reminders,
    reports,
    scale,
    sums_cost,
)

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

BENCHMARKS = {
    "org_import": org_import.run,
    "directory_sync": directory_sync.run,
    "heartbeat": lambda rows: heartbeat.run(POSTGRES),
    "beat_cost": lambda rows: beat_cost.run(POSTGRES),
    "checkin_burst": lambda rows: checkin_burst.run(POSTGRES),
    "checkin_cost": lambda rows: checkin_cost.run(POSTGRES),
    "exam_burst": lambda rows: exam_burst.run(POSTGRES),
    "evidence": lambda rows: evidence.run(POSTGRES),
    "factsize": lambda rows: factsize.run(POSTGRES),
    "reminders": lambda rows: reminders.run(POSTGRES),
    "partitions": lambda rows: partitions.run(POSTGRES),
    "archive": lambda rows: archive.run(POSTGRES),
    "reports": lambda rows: reports.run(POSTGRES),
    "scale": lambda rows: scale.run(POSTGRES),
    "sums_cost": lambda rows: sums_cost.run(POSTGRES),
    "memory": memory.run,
    "worker_memory": lambda rows: memory.worker(POSTGRES),
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1].split()[1]
    return f"{platform.node() and 'this machine'}: {cpu}, {subprocess.getoutput('nproc')} cores, {memory} GiB, " \
           f"Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(BENCHMARKS), help="benchmarks to run")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    print(machine())
    results = {}
    for name in args.names:
        results[name] = BENCHMARKS[name](rows=args.rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
