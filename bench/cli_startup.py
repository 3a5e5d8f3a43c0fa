"""CLI start-up: how long a person waits for ``tansuan`` to answer, against bare Python.

Prints one JSON line: for each command, the median wall time [s] of ``--runs`` runs as a
whole process (after one warm-up run), and the same for the bare baseline
``python -c pass`` and ``python -c "import typer"`` (the floor any Typer CLI pays), with
each command's ratio to the bare interpreter. Commands:

* ``tansuan --help``
* ``tansuan hj212 decode PACKET`` (a field engineer's check of one packet)
* ``tansuan calc examples/plant.yaml`` (a whole accounting of an activity file)

Target (issue: CLI start-up): ``--help`` and ``hj212 decode`` under 0.4 s on a 2-core
machine. Run: ``.venv/bin/python bench/cli_startup.py [--runs 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: An HJ 212-2017 packet (CN=1062, set the real-time upload interval) with a valid CRC.
PACKET = (
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    "Flag=5;CP=&&RtdInterval=30&&1C80"
)


def _tansuan(*args: str) -> list[str]:
    return [sys.executable, "-m", "tansuan.cli", *args]


def _wall(command: list[str], runs: int) -> float:
    """Median wall time [s] of ``runs`` runs after one warm-up; fails on a non-zero exit."""
    env = {**os.environ, "COLUMNS": "100"}
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} exited {done.returncode}: {done.stderr[-500:]!r}"
            )
        if i:
            times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="counted runs per command")
    runs = parser.parse_args().runs
    commands = {
        "help": _tansuan("--help"),
        "hj212_decode": _tansuan("hj212", "decode", PACKET),
        "calc_plant": _tansuan("calc", str(ROOT / "examples" / "plant.yaml")),
    }
    baselines = {
        "python_bare": [sys.executable, "-c", "pass"],
        "python_import_typer": [sys.executable, "-c", "import typer"],
    }
    figures: dict[str, object] = {"runs": runs, "load_avg_1m": round(os.getloadavg()[0], 2)}
    for name, command in {**baselines, **commands}.items():
        figures[f"{name}_s"] = round(_wall(command, runs), 4)
    bare = float(figures["python_bare_s"])  # type: ignore[arg-type]
    for name in commands:
        figures[f"{name}_vs_bare"] = round(float(figures[f"{name}_s"]) / bare, 2)  # type: ignore[arg-type]
    figures["target_met"] = all(
        float(figures[f"{name}_s"]) < 0.4  # type: ignore[arg-type]
        for name in ("help", "hj212_decode")
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
