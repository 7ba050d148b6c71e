"""Out-of-core "pca" benchmark: clusterspy's own decomposition against HyperSpy's lazy one.

Usage::

    OMP_WAIT_POLICY=passive python benchmarks/pca_outofcore.py [--size 1024] [--channels 2048]
        [--components 5] [--timeout 1800] [--memory-limit 8] [--cache /tmp/clusterspy-outofcore]
        [--out benchmarks/results]

``--size`` is the side of the map in positions (a multiple of 64): 1024 with 2048 float32
channels is the 8 GiB map of ``outofcore.py`` (the same file, generated once and cached
by ``outofcore.generate``: 4 Voronoi phases, Poisson noise, 64 x 64-position chunks);
256 is 0.5 GiB and 384 is 1.1 GiB. Each case runs in its own subprocess, which samples its
resident memory every 5 ms:

1. ``read``: one dask sum over the file, the disk-bound floor;
2. ``pca``: clusterspy, lazy, ``cluster_analysis("pca", number_of_components=N,
   preprocessing="norm", n_clusters=4)``: the Poisson-normalised randomized decomposition
   over the file's tiles (4 passes), k-means on the scores, cluster signals from the raw
   data (one more pass);
3. ``hyperspy``: HyperSpy's lazy ``decomposition(normalize_poissonian_noise=True,
   output_dimension=N)`` (``svd_compressed``, no power iteration), then the same
   clustering of its loadings by clusterspy (``"decomposition"`` source).

Time, peak resident memory of the whole process and the adjusted Rand index against the
true phase map are reported. HyperSpy's lazy decomposition can take much memory: a case
whose resident memory passes ``--memory-limit`` GiB is stopped (reported as such), and one
running past ``--timeout`` seconds is killed. Writes ``pca_outofcore.json`` and
``pca_outofcore.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
sys.path.insert(0, str(Path(__file__).parent))

from outofcore import _rss, _truth, generate  # noqa: E402


class PeakRSS:
    """Samples resident memory in a thread; stops the process past ``limit`` bytes."""

    def __init__(self, limit, name):
        self.limit = limit
        self.name = name

    def __enter__(self):
        self.start = _rss()
        self.peak = self.start
        self._run = True

        def loop():
            while self._run:
                self.peak = max(self.peak, _rss())
                if self.peak > self.limit:
                    print(
                        "RESULT "
                        + json.dumps(
                            {
                                "case": self.name,
                                "error": f"stopped: resident memory passed "
                                f"{self.limit / 2**30:.1f} GiB",
                                "peak_gib": self.peak / 2**30,
                            }
                        ),
                        flush=True,
                    )
                    os._exit(3)
                time.sleep(0.005)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._run = False
        self._thread.join()
        self.peak = max(self.peak, _rss())


def case(name, path, size, channels, components, limit):
    """Run one case in this process; print a JSON line with the figures."""
    import logging

    import dask.array as da
    import hyperspy.api as hs
    from sklearn.metrics import adjusted_rand_score

    import clusterspy  # noqa: F401  (registers the accessor)

    passes = []

    class Count(logging.Handler):
        def emit(self, record):
            passes.append(record.getMessage())

    logging.getLogger("clusterspy").addHandler(Count())
    logging.getLogger("clusterspy").setLevel(logging.INFO)
    s = hs.load(path, lazy=True)
    truth = _truth(size)
    out = {
        "case": name,
        "size": size,
        "channels": channels,
        "components": components,
        "data_gib": size * size * channels * 4 / 2**30,
    }
    cluster = dict(
        number_of_components=components,
        preprocessing="norm",
        n_clusters=4,
        random_state=0,
        show_progressbar=False,
    )
    t0 = time.perf_counter()
    with PeakRSS(limit, name) as peak:
        if name == "read":
            float(da.sum(s.data).compute())
        elif name == "pca":
            s.clusterspy.cluster_analysis("pca", **cluster)
        elif name == "hyperspy":
            s.decomposition(
                normalize_poissonian_noise=True,
                output_dimension=components,
                print_info=False,
            )
            out["decomposition_s"] = time.perf_counter() - t0
            out["decomposition_peak_gib"] = peak.peak / 2**30
            s.clusterspy.cluster_analysis("decomposition", **cluster)
    out["time_s"] = time.perf_counter() - t0
    out["peak_gib"] = peak.peak / 2**30
    out["start_gib"] = peak.start / 2**30
    if name != "read":
        r = s.clusterspy.result
        out["ari"] = adjusted_rand_score(truth.ravel(), r.labels)
        out["engine"] = r.parameters["engine"]
        out["passes"] = len(passes)
        out["pass_messages"] = passes
    print("RESULT " + json.dumps(out), flush=True)


def _run_case(name, path, args):
    cmd = [
        sys.executable,
        __file__,
        "--case",
        name,
        "--path",
        str(path),
        "--size",
        str(args.size),
        "--channels",
        str(args.channels),
        "--components",
        str(args.components),
        "--memory-limit",
        str(args.memory_limit),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"case": name, "error": f"killed after {args.timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"case": name, "error": proc.stderr[-2000:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--channels", type=int, default=2048)
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--memory-limit", type=float, default=8.0, help="GiB")
    parser.add_argument("--cases", default="read,pca,hyperspy")
    parser.add_argument("--cache", default="/tmp/clusterspy-outofcore")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--case")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.size % 64:
        parser.error("--size must be a multiple of 64")
    limit = int(args.memory_limit * 2**30)
    if args.case:
        case(args.case, args.path, args.size, args.channels, args.components, limit)
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"si_{args.size}x{args.size}x{args.channels}.zspy"
    if not path.exists():
        t0 = time.perf_counter()
        print(f"generating {path} ...", flush=True)
        generate(str(path), args.size, args.channels)
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
    results = []
    for name in args.cases.split(","):
        print(f"{name} on {args.size}x{args.size}x{args.channels} ...", flush=True)
        r = _run_case(name, path, args)
        print(
            "  " + json.dumps({k: v for k, v in r.items() if k != "pass_messages"}),
            flush=True,
        )
        results.append(r)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pca_outofcore.json").write_text(json.dumps(results, indent=1))
    gib = args.size**2 * args.channels * 4 / 2**30
    lines = [
        "# Out-of-core PCA benchmark",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} cores; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}",
        f"- Map: {args.size}x{args.size} positions x {args.channels} float32 channels "
        f"({gib:.2f} GiB, zarr, 64x64-position chunks), 4 phases; "
        f"{args.components} components, 'norm' preprocessing, k-means k = 4.",
        "- Peak: resident memory of the whole process, sampled every 5 ms.",
        "",
        "| case | time s | of which decomposition s | clusterspy passes | peak RSS GiB "
        "| ARI |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['error'][:80]} | | | | |")
            continue
        ari = f"{r['ari']:.3f}" if "ari" in r else ""
        dec = f"{r['decomposition_s']:.1f}" if "decomposition_s" in r else ""
        lines.append(
            f"| {r['case']} | {r['time_s']:.1f} | {dec} | {r.get('passes', '')} | "
            f"{r['peak_gib']:.2f} | {ari} |"
        )
    (out / "pca_outofcore.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
