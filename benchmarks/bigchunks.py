"""Peak memory and pass times of the out-of-core engine by the zarr chunks' size.

Usage (from the repository root)::

    OMP_WAIT_POLICY=passive python benchmarks/bigchunks.py [--size 512] [--chunk-rows 128]
        [--chunk-cols N] [--block-budget BYTES] [--cases ...] [--name bigchunks]
        [--cache DIR] [--out benchmarks/results]

The README's generated 4-phase map (``--size`` x ``--size`` x 1024 float32;
512 x 512: 1 GiB; 887 x 887: 3 GiB) is written once to a zarr store in chunks
of ``--chunk-rows`` rows by ``--chunk-cols`` columns of the map (default whole
rows: 128 rows of 512 are 256 MiB chunks; 74 rows of 887 too), then, each
case in its own subprocess, read lazily (``dask.array.from_zarr``):

- ``read``: one read of the data (a dask sum): the floor of a pass;
- ``whole-chunks``: ``cluster_analysis("signal", preprocessing="norm",
  n_clusters=4, engine="blockwise")`` with every task working on its whole
  chunk at once (``rowblocks.SUB_BLOCK_BYTES = None``: the engine before
  sub-blocks, and before tiny chunks were grouped);
- ``sub-blocks``: the same with the defaults: 8 MiB sub-blocks, tiny chunks
  grouped into tasks of about that size, the tasks run side by side holding
  at most ``--block-budget`` bytes of chunks (``engine_kwargs``; default the
  engine's 512 MiB);
- ``ungrouped``: the defaults but one task per chunk, however small (tiny
  chunks not grouped: the engine before grouping).

Tiny chunks (e.g. ``--size 512 --chunk-rows 2 --chunk-cols 16``: 128 KiB
chunks, ``--name tinychunks``) measure the grouping. Peak: resident memory of
the whole process, sampled every 5 ms, and the kernel's ``VmHWM`` (reset
before the call), the larger. Pass times: each pass's dask compute, from
clusterspy's DEBUG log. Threads: ``OMP_WAIT_POLICY=passive``; BLAS limited to
one thread in each task by the engine (threadpoolctl). Writes
``NAME.json`` and ``NAME.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CHANNELS = 1024
GiB = 2**30


def _kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Peak:
    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        self.peak, self._run = _kib("VmRSS"), True

        def loop():
            while self._run:
                self.peak = max(self.peak, _kib("VmRSS"))
                time.sleep(0.005)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._run = False
        self._thread.join()
        self.peak = max(self.peak, _kib("VmHWM"))


def ensure_store(cache, size, chunk_rows, chunk_cols=None):
    import _data
    import dask.array as da
    import numpy as np

    npy = _data.ensure_dataset(cache, (size, size), CHANNELS)
    cols = "" if chunk_cols in (None, size) else f"x{chunk_cols}"
    store = npy.with_name(npy.name[: -len(".npy")] + f".rows{chunk_rows}{cols}.zarr")
    done = store / ".complete"
    if not done.exists():
        data = np.load(npy, mmap_mode="r")
        # written from 256 MiB dask blocks whatever the zarr chunks
        rows = max(
            chunk_rows, (2**28 // (size * CHANNELS * 4)) // chunk_rows * chunk_rows
        )
        da.from_array(data, chunks=(rows, size, CHANNELS)).to_zarr(
            str(store),
            overwrite=True,
            chunks=(chunk_rows, chunk_cols or size, CHANNELS),
        )
        done.touch()
    truth = np.load(npy.with_name(npy.name[: -len(".npy")] + ".truth.npy"))
    return store, truth


def worker(case, store, truth_path, block_budget=None):
    import logging

    import dask.array as da
    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    import clusterspy
    from clusterspy.engines import rowblocks

    data = da.from_zarr(str(store))
    out = {"case": case, "chunk_bytes": int(np.prod(data.chunksize)) * data.itemsize}
    passes, durations = [], []

    class Count(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if message.endswith("over the data)"):
                passes.append(message)
            elif " took " in message:  # DEBUG: the pass's dask compute
                durations.append(message.split(" took ")[1])

    logging.getLogger("clusterspy").addHandler(Count())
    logging.getLogger("clusterspy").setLevel(logging.DEBUG)
    if case == "read":
        with Peak() as p:
            t = time.perf_counter()
            data.sum(dtype="float64").compute()
            out["time_s"] = time.perf_counter() - t
    else:
        if case == "whole-chunks":
            rowblocks.SUB_BLOCK_BYTES = None
        if case == "ungrouped":
            rowblocks.RowBlocks.groups = lambda self: [
                ([b], idx) for b, idx in enumerate(self.index)
            ]
        s = hs.signals.Signal1D(data).as_lazy()
        # warm-up on a small crop: imports and first-call costs
        s.inav[:16, :16].clusterspy.cluster_analysis(
            "signal", preprocessing="norm", n_clusters=4, engine="blockwise"
        )
        passes.clear()
        durations.clear()
        with Peak() as p:
            t = time.perf_counter()
            s.clusterspy.cluster_analysis(
                "signal",
                preprocessing="norm",
                n_clusters=4,
                random_state=0,
                engine="blockwise",
                engine_kwargs=None
                if block_budget is None
                else {"block_budget": block_budget},
            )
            out["time_s"] = time.perf_counter() - t
        truth = np.load(truth_path)
        out["ari"] = float(
            adjusted_rand_score(truth.ravel(), s.clusterspy.result.labels)
        )
        out["passes"] = len(passes)
        out["pass_messages"] = passes
        out["pass_s"] = [float(d.split()[0]) for d in durations]
        out["pass_detail"] = durations
        out["sub_block_bytes"] = rowblocks.SUB_BLOCK_BYTES
        out["block_budget"] = block_budget or rowblocks.BLOCK_BUDGET
        del clusterspy
    out["peak_rss_bytes"] = p.peak
    out["load_average"] = os.getloadavg()
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--chunk-rows", type=int, default=128)
    parser.add_argument(
        "--cache",
        default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "clusterspy-benchmarks"),
    )
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--chunk-cols", type=int, default=None)
    parser.add_argument("--block-budget", type=int, default=None)
    parser.add_argument("--name", default="bigchunks")
    parser.add_argument("--cases", default="read,whole-chunks,sub-blocks")
    parser.add_argument("--worker")
    parser.add_argument("--store")
    parser.add_argument("--truth")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.store, args.truth, args.block_budget)
        return
    store, _ = ensure_store(args.cache, args.size, args.chunk_rows, args.chunk_cols)
    stem = store.name.split(".rows")[0]
    truth = store.with_name(stem + ".truth.npy")
    rows = []
    for case in args.cases.split(","):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                case,
                "--store",
                str(store),
                "--truth",
                str(truth),
            ]
            + (
                []
                if args.block_budget is None
                else ["--block-budget", str(args.block_budget)]
            ),
            capture_output=True,
            text=True,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        row = (
            json.loads(line[-1])
            if line
            else {"case": case, "error": proc.stderr[-3000:]}
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "size": f"{args.size}x{args.size}x{CHANNELS} float32",
        "data_gib": args.size * args.size * CHANNELS * 4 / GiB,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "cores": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
    }
    meta["chunks"] = [args.chunk_rows, args.chunk_cols or args.size, CHANNELS]
    meta["block_budget"] = args.block_budget
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1)
    )
    read = next(
        (r["time_s"] for r in rows if r["case"] == "read" and "time_s" in r), None
    )
    chunk = f"{args.chunk_rows} x {args.chunk_cols or args.size} map positions"
    lines = [
        f"# Out of core by chunk size: {args.name}",
        "",
        f"- Date: {meta['date']}; {meta['size']} ({meta['data_gib']:.2f} GiB) in zarr "
        f"chunks of {chunk}; {meta['cores']} cores; "
        f"OMP_WAIT_POLICY={meta['OMP_WAIT_POLICY']}; dask's threaded scheduler, "
        "threads bounded by the block budget "
        f"({'512 MiB (default)' if args.block_budget is None else args.block_budget}), "
        "BLAS limited to one thread in each task (threadpoolctl); load average "
        "(1, 5, 15 min) at the end of each case in the last column",
        "- Peak: whole-process resident memory (5 ms samples and VmHWM, the larger)",
        "- Passes: each pass's dask compute (clusterspy's DEBUG log): the scan (which also "
        "reads the k-means sample), the Lloyd iterations, the final distances and cluster "
        "signals; Lloyd / read: the median Lloyd pass over one read",
        "",
        "| case | chunk MiB | tasks a pass | threads | time s | passes | s per pass "
        "| Lloyd / read | peak RSS GiB | ARI | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "time_s" not in r:
            lines.append(f"| {r['case']} | error |  |  |  |  |  |  |  |  |  |")
            continue
        passes = r.get("passes")
        per = ", ".join(f"{t:.1f}" for t in r.get("pass_s", []))
        lloyd = [
            t
            for t, m in zip(
                r.get("pass_s", []), r.get("pass_messages", []), strict=False
            )
            if "iteration" in m
        ]
        ratio = f"{sorted(lloyd)[len(lloyd) // 2] / read:.2f}" if lloyd and read else ""
        detail = r.get("pass_detail") or [""]
        tasks = detail[-1].split("(")[-1].split(" tasks")[0] if detail[-1] else ""
        threads = detail[-1].split(", ")[-1].split(" threads")[0] if detail[-1] else ""
        ari = f"{r['ari']:.3f}" if "ari" in r else ""
        load = ", ".join(f"{x:.1f}" for x in r.get("load_average", ()))
        lines.append(
            f"| {r['case']} | {r['chunk_bytes'] / 2**20:.2f} | {tasks} | {threads} | "
            f"{r['time_s']:.1f} | {passes or ''} | {per} | {ratio} | "
            f"{r['peak_rss_bytes'] / GiB:.2f} | {ari} | {load} |"
        )
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
