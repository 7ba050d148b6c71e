"""Peak memory of the out-of-core engine on a zarr map stored in big chunks.

Usage (from the repository root)::

    OMP_WAIT_POLICY=passive python benchmarks/bigchunks.py [--size 512] [--chunk-rows 128]
        [--cache DIR] [--out benchmarks/results]

The README's generated 4-phase map (``--size`` x ``--size`` x 1024 float32;
512 x 512: 1 GiB) is written once to a zarr store in chunks of
``--chunk-rows`` whole rows of the map (128 rows: 256 MiB chunks), then, each
case in its own subprocess, read lazily (``dask.array.from_zarr``):

- ``read``: one read of the data (a dask sum): the floor of a pass;
- ``whole-chunks``: ``cluster_analysis("signal", preprocessing="norm",
  n_clusters=4, engine="blockwise")`` with every task working on its whole
  chunk at once (``rowblocks.SUB_BLOCK_BYTES = None``: the engine before
  sub-blocks);
- ``sub-blocks``: the same with the default sub-blocks of 32 MiB.

Peak: resident memory of the whole process, sampled every 5 ms, and the
kernel's ``VmHWM`` (reset before the call), the larger. Writes
``bigchunks.json`` and ``bigchunks.md`` into ``--out``.
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


def ensure_store(cache, size, chunk_rows):
    import _data
    import dask.array as da
    import numpy as np

    npy = _data.ensure_dataset(cache, (size, size), CHANNELS)
    store = npy.with_name(npy.name[: -len(".npy")] + f".rows{chunk_rows}.zarr")
    done = store / ".complete"
    if not done.exists():
        data = np.load(npy, mmap_mode="r")
        da.from_array(data, chunks=(chunk_rows, size, CHANNELS)).to_zarr(
            str(store), overwrite=True
        )
        done.touch()
    truth = np.load(npy.with_name(npy.name[: -len(".npy")] + ".truth.npy"))
    return store, truth


def worker(case, store, truth_path):
    import logging

    import dask.array as da
    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    import clusterspy
    from clusterspy.engines import rowblocks

    data = da.from_zarr(str(store))
    out = {"case": case, "chunk_bytes": int(np.prod(data.chunksize)) * data.itemsize}
    passes = []

    class Count(logging.Handler):
        def emit(self, record):
            if "over the data" in record.getMessage():
                passes.append(record.getMessage())

    logging.getLogger("clusterspy").addHandler(Count())
    logging.getLogger("clusterspy").setLevel(logging.INFO)
    if case == "read":
        with Peak() as p:
            t = time.perf_counter()
            data.sum(dtype="float64").compute()
            out["time_s"] = time.perf_counter() - t
    else:
        if case == "whole-chunks":
            rowblocks.SUB_BLOCK_BYTES = None
        s = hs.signals.Signal1D(data).as_lazy()
        # warm-up on a small crop: imports and first-call costs
        s.inav[:16, :16].clusterspy.cluster_analysis(
            "signal", preprocessing="norm", n_clusters=4, engine="blockwise"
        )
        passes.clear()
        with Peak() as p:
            t = time.perf_counter()
            s.clusterspy.cluster_analysis(
                "signal",
                preprocessing="norm",
                n_clusters=4,
                random_state=0,
                engine="blockwise",
            )
            out["time_s"] = time.perf_counter() - t
        truth = np.load(truth_path)
        out["ari"] = float(
            adjusted_rand_score(truth.ravel(), s.clusterspy.result.labels)
        )
        out["passes"] = len(passes)
        out["sub_block_bytes"] = rowblocks.SUB_BLOCK_BYTES
        del clusterspy
    out["peak_rss_bytes"] = p.peak
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
    parser.add_argument("--cases", default="read,whole-chunks,sub-blocks")
    parser.add_argument("--worker")
    parser.add_argument("--store")
    parser.add_argument("--truth")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.store, args.truth)
        return
    store, _ = ensure_store(args.cache, args.size, args.chunk_rows)
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
            ],
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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bigchunks.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1)
    )
    lines = [
        "# Out of core, big chunks: peak memory bounded by sub-blocks",
        "",
        f"- Date: {meta['date']}; {meta['size']} ({meta['data_gib']:.2f} GiB) in zarr "
        f"chunks of {args.chunk_rows} map rows; {meta['cores']} cores; "
        f"OMP_WAIT_POLICY={meta['OMP_WAIT_POLICY']}; dask's threaded scheduler with its "
        "default workers; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in meta['load_average'])}",
        "- Peak: whole-process resident memory (5 ms samples and VmHWM, the larger)",
        "",
        "| case | chunk MiB | time s | passes | s per pass | peak RSS GiB | ARI |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "time_s" not in r:
            lines.append(f"| {r['case']} | error |  |  |  |  |  |")
            continue
        passes = r.get("passes")
        per = f"{r['time_s'] / passes:.1f}" if passes else ""
        ari = f"{r['ari']:.3f}" if "ari" in r else ""
        lines.append(
            f"| {r['case']} | {r['chunk_bytes'] / 2**20:.0f} | {r['time_s']:.1f} | "
            f"{passes or ''} | {per} | {r['peak_rss_bytes'] / GiB:.2f} | {ari} |"
        )
    (out / "bigchunks.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
