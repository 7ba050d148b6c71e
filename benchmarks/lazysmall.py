"""A real map that fits in memory, loaded lazily: load + call against eager load + call.

Usage (from the repository root)::

    OMP_WAIT_POLICY=passive python benchmarks/lazysmall.py [--file PATH] [--repeats 3]
        [--out benchmarks/results]

Each repeat, in its own subprocess: ``hs.load(path, lazy=...)`` (the last
signal of a Bruker file: the EDS map), then ``cluster_analysis("signal",
preprocessing="norm", n_clusters=4, random_state=0)`` with the default
``engine="auto"``: an eager signal, and a lazy one, which now goes to the
in-memory engine when its features fit the memory budget (and to
``engine="blockwise"`` as a third case, for comparison). Reports the median
load + call time, the whole-process peak RSS (``VmHWM``), the engine used,
and whether the labels equal the eager ones. Skipped when the file is absent.
Writes ``lazysmall.json`` and ``lazysmall.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
HERE = Path(__file__).resolve().parent
DEFAULT = "/work/shared/data/eds_sem_320x240_sparse.bcf"
CASES = ("eager", "lazy", "lazy-blockwise")


def worker(case, path, labels_out):
    import hyperspy.api as hs
    import numpy as np

    import clusterspy  # noqa: F401

    t = time.perf_counter()
    s = hs.load(path, lazy=case != "eager")
    if isinstance(s, list):
        s = s[-1]
    t_load = time.perf_counter() - t
    kw = {"engine": "blockwise"} if case == "lazy-blockwise" else {}
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=4, random_state=0, **kw
    )
    total = time.perf_counter() - t
    r = s.clusterspy.result
    np.save(labels_out, r.labels)
    with open("/proc/self/status") as f:
        hwm = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("VmHWM"))
    print(
        json.dumps(
            {
                "case": case,
                "load_s": t_load,
                "total_s": total,
                "engine": r.parameters["engine"],
                "shape": list(s.data.shape),
                "dtype": str(s.data.dtype),
                "peak_rss_bytes": hwm,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--worker")
    parser.add_argument("--labels")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.file, args.labels)
        return
    if not Path(args.file).exists():
        print(f"skipped: {args.file} not found")
        return
    import tempfile

    import numpy as np

    rows = {}
    labels = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _rep in range(args.repeats):
            for case in CASES:  # interleaved: the load of the machine hits all alike
                lab = os.path.join(tmp, f"{case}.npy")
                proc = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        case,
                        "--file",
                        args.file,
                        "--labels",
                        lab,
                    ],
                    capture_output=True,
                    text=True,
                )
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                if not line:
                    print(proc.stderr[-3000:])
                    raise SystemExit(1)
                row = json.loads(line[-1])
                print(json.dumps(row), flush=True)
                rows.setdefault(case, []).append(row)
                labels[case] = np.load(lab)
    eager = statistics.median(r["total_s"] for r in rows["eager"])
    summary = []
    for case in CASES:
        total = statistics.median(r["total_s"] for r in rows[case])
        summary.append(
            {
                "case": case,
                "median_total_s": total,
                "median_load_s": statistics.median(r["load_s"] for r in rows[case]),
                "ratio_to_eager": total / eager,
                "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rows[case]),
                "engine": rows[case][0]["engine"],
                "same_labels_as_eager": bool(
                    np.array_equal(labels[case], labels["eager"])
                ),
            }
        )
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "file": args.file,
        "shape": rows["eager"][0]["shape"],
        "dtype": rows["eager"][0]["dtype"],
        "cores": len(os.sched_getaffinity(0)),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "load_average": os.getloadavg(),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lazysmall.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=1)
    )
    lines = [
        "# A real map that fits in memory, loaded lazily",
        "",
        f"- Date: {meta['date']}; `{Path(args.file).name}` {meta['shape']} {meta['dtype']}; "
        f'`"norm"`, k = 4; {meta["cores"]} cores; OMP_WAIT_POLICY={meta["OMP_WAIT_POLICY"]}; '
        f"default threads; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in meta['load_average'])}",
        f"- Median of {args.repeats} runs of load + call, each in a fresh process, cases "
        "interleaved; peak = the process's VmHWM",
        "",
        "| case | engine | load + call s | load s | x eager | peak RSS GiB | labels = eager |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summary:
        lines.append(
            f"| {r['case']} | {r['engine']} | {r['median_total_s']:.2f} | "
            f"{r['median_load_s']:.2f} | {r['ratio_to_eager']:.2f} | "
            f"{r['peak_rss_bytes'] / 2**30:.2f} | {r['same_labels_as_eager']} |"
        )
    (out / "lazysmall.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
