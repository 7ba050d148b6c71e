"""The in-memory k-means case against the fastest k-means there is, and the machine's floor.

Usage (from the repository root)::

    OMP_WAIT_POLICY=passive python benchmarks/anchors.py [--size 256] [--repeats 5]
        [--threads N] [--cache DIR] [--out benchmarks/results]

On the README's benchmark case (``--size`` x ``--size`` positions x 1024 float32
channels, 4 phases, ``"norm"``, k = 4), each tool in its own subprocess, in
the same run:

- the floor: one distance pass ``X @ C.T`` (float32 GEMM with 4 centres,
  the least one Lloyd iteration costs) and one read of the data (a sum);
- anchors on the same norm-scaled float32 features: faiss-cpu's ``Kmeans``
  (20 iterations, trained on its default sample of 256 rows per centroid,
  then every row assigned in one search), scikit-learn-intelex's ``KMeans``
  and scikit-learn's ``KMeans`` (``n_init=1``, ``random_state=0``); an
  anchor whose package is not installed is reported as skipped;
- whole calls from the signal: clusterspy's ``cluster_analysis`` (its own
  in-memory k-means), the same with ``engine_kwargs={"exact_sklearn": True}``
  (scikit-learn's ``KMeans`` fit), and HyperSpy's own ``cluster_analysis``.

Time: median of ``--repeats`` calls after a warm-up on a 16 x 16 crop.
Extra memory: the kernel's peak resident memory (``VmHWM``, reset before each
call) minus the resident memory before it, the largest over the repeats.
Threads: ``OMP_WAIT_POLICY=passive``; BLAS and OpenMP pools limited to
``--threads`` (default: every core) with threadpoolctl; recorded in the
results. Writes ``anchors.json`` and ``anchors.md`` into ``--out``.
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
sys.path.insert(0, str(HERE))

CHANNELS = 1024
K = 4
CASES = (
    "floor_gemm",
    "floor_read",
    "faiss",
    "sklearnex",
    "sklearn",
    "clusterspy",
    "clusterspy_exact_sklearn",
    "hyperspy",
)


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _normalised(data):
    from sklearn.preprocessing import Normalizer

    return Normalizer().fit_transform(data.reshape(-1, data.shape[-1]))


def _setup(case, s, truth):
    """What the timed call runs: a function returning labels (or None)."""
    import numpy as np

    if case in ("clusterspy", "clusterspy_exact_sklearn"):
        import clusterspy  # noqa: F401  (registers the s.clusterspy namespace)

        kw = {"engine_kwargs": {"exact_sklearn": True}} if "exact" in case else {}

        def run(sig=s):
            sig.clusterspy.cluster_analysis(
                "signal", preprocessing="norm", n_clusters=K, random_state=0, **kw
            )
            return sig.clusterspy.result.labels

        return run
    if case == "hyperspy":

        def run(sig=s):
            sig.cluster_analysis(
                "signal", preprocessing="norm", n_clusters=K, random_state=0
            )
            return np.asarray(sig.learning_results.cluster_labels).argmax(axis=0)

        return run
    X = _normalised(s.data)
    if case == "floor_gemm":
        C = X[np.random.default_rng(0).choice(X.shape[0], K, replace=False)]

        def run():
            X @ C.T

        return run
    if case == "floor_read":
        data = s.data

        def run():
            data.sum()

        return run
    if case == "faiss":
        import faiss

        def run():
            km = faiss.Kmeans(X.shape[1], K, niter=20, seed=0)
            km.train(X)
            _, lab = km.index.search(X, 1)
            return lab.ravel()

        return run
    if case == "sklearnex":
        from sklearnex.cluster import KMeans

        def run():
            return KMeans(K, n_init=1, random_state=0).fit(X).labels_

        return run
    if case == "sklearn":
        from sklearn.cluster import KMeans

        def run():
            return KMeans(K, n_init=1, random_state=0).fit(X).labels_

        return run
    raise ValueError(case)


def worker(case, path, repeats, threads):
    """One case in this process; prints one JSON line."""
    import _data
    import numpy as np
    from sklearn.metrics import adjusted_rand_score
    from threadpoolctl import threadpool_info, threadpool_limits

    limits = threadpool_limits(limits=threads)
    try:
        s, truth = _data.load_signal(path)
        crop = s.inav[:16, :16].deepcopy()
        try:
            _setup(case, crop, None)()  # warm-up: imports, first-call costs
            run = _setup(case, s, truth)
        except ImportError as err:
            print(json.dumps({"case": case, "skipped": f"not installed: {err.name}"}))
            return
        times, extra = [], []
        labels = None
        for _ in range(repeats):
            before = _status_kib("VmRSS") * 1024
            _reset_hwm()
            t = time.perf_counter()
            labels = run()
            times.append(time.perf_counter() - t)
            extra.append(_status_kib("VmHWM") * 1024 - before)
        ari = None
        if labels is not None:
            ari = float(adjusted_rand_score(truth.ravel(), np.asarray(labels).ravel()))
        out = {
            "case": case,
            "times": times,
            "median_s": statistics.median(times),
            "extra_peak_bytes": max(extra),
            "data_bytes": int(s.data.nbytes),
            "ari": ari,
            "threadpools": [
                {k: p.get(k) for k in ("user_api", "internal_api", "num_threads")}
                for p in threadpool_info()
            ],
        }
        print(json.dumps(out))
    finally:
        limits.restore_original_limits()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--cache",
        default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "clusterspy-benchmarks"),
    )
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--worker")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.repeats, args.threads)
        return
    import _data

    path = _data.ensure_dataset(args.cache, (args.size, args.size), CHANNELS)
    rows = []
    for case in args.cases.split(","):
        repeats = min(args.repeats, 3) if case == "hyperspy" else args.repeats
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                case,
                "--path",
                str(path),
                "--repeats",
                str(repeats),
                "--threads",
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_WAIT_POLICY": os.environ["OMP_WAIT_POLICY"]},
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        row = (
            json.loads(line[-1])
            if line
            else {"case": case, "error": proc.stderr[-2000:]}
        )
        print(
            json.dumps({k: v for k, v in row.items() if k != "threadpools"}), flush=True
        )
        rows.append(row)
    _write(args, rows)


def _write(args, rows):
    by = {r["case"]: r for r in rows}
    floor = by.get("floor_gemm", {}).get("median_s")
    faiss = by.get("faiss", {}).get("median_s")
    hs = by.get("hyperspy", {}).get("median_s")
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "size": f"{args.size}x{args.size}x{CHANNELS} float32",
        "threads": args.threads,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "load_average": os.getloadavg(),
        "cores": len(os.sched_getaffinity(0)),
        "threadpools": next(
            (r["threadpools"] for r in rows if "threadpools" in r), None
        ),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "anchors.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1)
    )
    lines = [
        "# In-memory k-means against anchors and the machine's floor",
        "",
        f'- Date: {meta["date"]}; {meta["size"]}, `"norm"`, k = {K}; {meta["cores"]} cores',
        f"- Threads: OMP_WAIT_POLICY={meta['OMP_WAIT_POLICY']}; BLAS and OpenMP limited to "
        f"{args.threads} with threadpoolctl; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in meta['load_average'])} (a busy machine: compare "
        "the ratios, measured side by side, more than the times)",
        "- Median of the repeats; extra peak = VmHWM during the call - RSS before it",
        "",
        "| case | median s | x floor (1 GEMM pass) | x faiss | HyperSpy / case | extra peak / data | ARI |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "median_s" not in r:
            lines.append(
                f"| {r['case']} | {r.get('skipped') or 'error'} |  |  |  |  |  |"
            )
            continue
        t = r["median_s"]
        ari = "" if r["ari"] is None else f"{r['ari']:.3f}"
        lines.append(
            f"| {r['case']} | {t:.3f} | "
            + (f"{t / floor:.1f}" if floor else "")
            + " | "
            + (f"{t / faiss:.2f}" if faiss else "")
            + " | "
            + (f"{hs / t:.2f}" if hs else "")
            + f" | {r['extra_peak_bytes'] / r['data_bytes']:.2f} | {ari} |"
        )
    (out / "anchors.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
