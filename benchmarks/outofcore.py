"""Out-of-core benchmark: cluster a zarr-backed spectrum image larger than memory allows.

Usage::

    OMP_WAIT_POLICY=passive python benchmarks/outofcore.py [--size 1024] [--channels 2048]
        [--hyperspy-size 256] [--cache /tmp/clusterspy-outofcore] [--out benchmarks/results]

Generates (once, cached) a spectrum image of ``size x size`` positions and ``channels``
float32 channels as a ``.zspy`` file (chunks of 64 x 64 positions x all channels), with 4
Voronoi phases and Poisson noise, written chunk by chunk so generation itself never holds
the array. Then, each case in its own subprocess, samples the resident memory every 5 ms:

1. the time to read the data once (a dask sum over the file: the disk-bound floor);
2. clusterspy, lazy, signal source with "norm" preprocessing, k = 4 (three k-means++
   starts compared on the initialisation sample): wall time, number of
   passes over the data, the time of each pass (from one log message to the
   next: the scan, each Lloyd iteration, the final distances and cluster
   signals), peak resident memory, ARI against the truth; ``blockwise`` is
   the same call with ``engine="blockwise"`` (on a map that fits the memory
   budget, ``engine="auto"`` clusters it in memory);
3. clusterspy, lazy, decomposition source (HyperSpy's lazy SVD, 5 components), cluster
   signals from the raw data;
4. HyperSpy's built-in ``cluster_analysis`` on a smaller lazy file (``--hyperspy-size``),
   side by side with clusterspy on the same file.

Threads: ``OMP_WAIT_POLICY=passive``; the engine runs one dask task per core
with BLAS limited to one thread in each (threadpoolctl); the BLAS and OpenMP
pools found are recorded in the JSON.

Writes ``outofcore.json`` and ``outofcore.md`` into ``--out``.
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


def _rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """Samples resident memory in a thread while the block runs."""

    def __enter__(self):
        self.start = _rss()
        self.peak = self.start
        self._run = True

        def loop():
            while self._run:
                self.peak = max(self.peak, _rss())
                time.sleep(0.005)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._run = False
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _truth(size, seed=0):
    from clusterspy.datasets import phase_map

    return phase_map((size, size), n_phases=4, random_state=seed)


def generate(path, size, channels, seed=0):
    """Write the spectrum image chunk by chunk; return the truth map."""
    import dask.array as da
    import hyperspy.api as hs
    import numpy as np

    truth = _truth(size, seed)
    rng = np.random.default_rng(seed)
    energy = np.linspace(0.0, 10.0, channels, endpoint=False)
    lines = np.array([0.52, 1.49, 1.74, 2.62, 3.69, 5.41, 6.40, 8.04])
    spectra = np.empty((4, channels))
    for p in range(4):
        amp = rng.uniform(0, 0.4, lines.size)
        amp[(2 * p + 1) % lines.size] += 1.0
        peaks = (
            amp[:, None] * np.exp(-0.5 * ((energy - lines[:, None]) / 0.08) ** 2)
        ).sum(0)
        spectra[p] = 0.3 * np.exp(-energy / 3.0) + peaks
        spectra[p] *= 500.0 / spectra[p].sum()

    def block(block_id=None):
        i, j = block_id[0], block_id[1]
        t = truth[i * 64 : (i + 1) * 64, j * 64 : (j + 1) * 64]
        r = np.random.default_rng([seed, i, j])
        return r.poisson(spectra[t]).astype(np.float32)

    data = da.map_blocks(
        block,
        dtype=np.float32,
        chunks=((64,) * (size // 64), (64,) * (size // 64), (channels,)),
    )
    s = hs.signals.Signal1D(data).as_lazy()
    s.save(path, overwrite=True, chunks=(64, 64, channels))
    return truth


def case(name, path, size, channels):
    """Run one case in this process; print a JSON line with the figures."""
    import logging

    import dask.array as da
    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    import clusterspy  # noqa: F401  (registers the accessor)

    passes = []

    durations = []

    class Count(logging.Handler):
        def emit(self, record):
            message = record.getMessage()
            if message.endswith("over the data)"):
                passes.append((time.perf_counter(), message))
            elif " took " in message:  # DEBUG: the pass's own dask compute
                durations.append(float(message.split(" took ")[1].split()[0]))

    logging.getLogger("clusterspy").addHandler(Count())
    logging.getLogger("clusterspy").setLevel(logging.DEBUG)
    s = hs.load(path, lazy=True)
    truth = _truth(size)
    out = {
        "case": name,
        "size": size,
        "channels": channels,
        "data_gib": size * size * channels * 4 / 2**30,
    }
    if name == "decomposition":
        t0 = time.perf_counter()
        with PeakRSS() as dec_peak:
            s.decomposition(output_dimension=5, print_info=False)
        out["decomposition_s"] = time.perf_counter() - t0
        out["decomposition_peak_gib"] = dec_peak.peak / 2**30
    if name in ("signal", "blockwise"):
        # one read in this process just before: the pass's floor under the
        # same load (the read case runs in its own process, earlier)
        t0 = time.perf_counter()
        float(da.sum(s.data).compute())
        out["read_in_case_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with PeakRSS() as peak:
        if name == "read":
            float(da.sum(s.data).compute())
        elif name in ("signal", "blockwise"):
            # three k-means++ starts, compared on the in-memory sample
            s.clusterspy.cluster_analysis(
                "signal",
                preprocessing="norm",
                n_clusters=4,
                n_init=3,
                random_state=0,
                show_progressbar=False,
                engine="blockwise" if name == "blockwise" else "auto",
            )
        elif name == "decomposition":
            s.clusterspy.cluster_analysis(
                "decomposition",
                number_of_components=5,
                n_clusters=4,
                random_state=0,
                show_progressbar=False,
            )
        elif name == "hyperspy":
            s.cluster_analysis(
                "signal", preprocessing="norm", n_clusters=4, random_state=0
            )
    t1 = time.perf_counter()
    out["time_s"] = t1 - t0
    out["peak_gib"] = peak.peak / 2**30
    out["start_gib"] = peak.start / 2**30
    if name in ("signal", "blockwise", "decomposition"):
        r = s.clusterspy.result
        out["ari"] = adjusted_rand_score(truth.ravel(), r.labels)
        out["engine"] = r.parameters["engine"]
        out["passes"] = len(passes)
        out["pass_messages"] = [m for _, m in passes]
        # each pass: its dask compute (reading and working on every block)
        out["pass_s"] = durations
        out["first_pass_after_s"] = passes[0][0] - t0 if passes else None
    from threadpoolctl import threadpool_info

    out["threadpools"] = [
        {k: p.get(k) for k in ("user_api", "internal_api", "num_threads")}
        for p in threadpool_info()
    ]
    out["load_average"] = os.getloadavg()
    if name == "hyperspy":
        labels = s.get_cluster_labels(merged=True).data
        out["ari"] = adjusted_rand_score(truth.ravel(), np.asarray(labels).ravel())
    print("RESULT " + json.dumps(out), flush=True)


def _run_case(name, path, size, channels):
    cmd = [
        sys.executable,
        __file__,
        "--case",
        name,
        "--path",
        str(path),
        "--size",
        str(size),
        "--channels",
        str(channels),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"case": name, "error": proc.stderr[-2000:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--channels", type=int, default=2048)
    parser.add_argument("--hyperspy-size", type=int, default=256)
    parser.add_argument("--cache", default="/tmp/clusterspy-outofcore")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--only", help="comma-separated sizes to run (default: both)", default=None
    )
    parser.add_argument(
        "--cases", default=None, help="comma-separated cases to run (default: all)"
    )
    parser.add_argument("--case")
    parser.add_argument("--path")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite outofcore.md from outofcore.json, running nothing",
    )
    args = parser.parse_args()
    if args.report_only:
        out = Path(args.out)
        write_report(json.loads((out / "outofcore.json").read_text()), out)
        return
    if args.case:
        case(args.case, args.path, args.size, args.channels)
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    results = []
    only = None if args.only is None else {int(x) for x in args.only.split(",")}
    for size, cases in (
        (args.size, ("read", "signal", "decomposition")),
        (args.hyperspy_size, ("read", "hyperspy", "signal", "blockwise")),
    ):
        if only is not None and size not in only:
            continue
        path = cache / f"si_{size}x{size}x{args.channels}.zspy"
        if not path.exists():
            t0 = time.perf_counter()
            print(f"generating {path} ...", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                    f"import outofcore; outofcore.generate({str(path)!r}, {size}, {args.channels})",
                ],
                check=True,
            )
            print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
        for name in cases:
            if args.cases is not None and name not in args.cases.split(","):
                continue
            print(f"{name} on {size}x{size}x{args.channels} ...", flush=True)
            r = _run_case(name, path, size, args.channels)
            print(
                "  " + json.dumps({k: v for k, v in r.items() if k != "pass_messages"}),
                flush=True,
            )
            results.append(r)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for r in results:
        r["date"] = now
    previous = out / "outofcore.json"
    if (args.cases or args.only) and previous.exists():
        # a partial run: the cases not run keep their earlier figures
        ran = {(r["case"], r.get("size")) for r in results}
        kept = [
            dict(r, earlier=True)
            for r in json.loads(previous.read_text())
            if (r["case"], r.get("size")) not in ran
        ]
        results = kept + results
        results.sort(key=lambda r: -(r.get("size") or 0))
    previous.write_text(json.dumps(results, indent=1))
    write_report(results, out)


def write_report(results, out):
    """``outofcore.md`` from the results (as in ``outofcore.json``)."""
    import numpy as np

    reads = {r["size"]: r["time_s"] for r in results if r.get("case") == "read"}
    lines = [
        "# Out-of-core benchmark",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} cores; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; "
        "dask's threaded scheduler, one task per core, BLAS limited to one thread in "
        "each task (threadpoolctl); load average (1, 5, 15 min) at the end of each "
        "case in the last column",
        "- Peak: resident memory of the whole process (Python, libraries and all), sampled "
        "every 5 ms during the call.",
        "- Passes: the scan (feature statistics, finite rows, and the k-means sample "
        "read in the same pass), the Lloyd iterations, the final distances and cluster "
        "signals; each the time of its dask compute (clusterspy's DEBUG log). "
        "Lloyd / read: the median Lloyd pass over the time of one read of the data "
        "made in the same process just before the call (the read case runs earlier, "
        "in its own process).",
        "",
        "| case | engine | data GiB | time s | passes | s per pass (scan, Lloyd..., final) "
        "| Lloyd / read | peak RSS GiB | ARI | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | | | error | | | | | | |")
            continue
        per = r.get("pass_s") or []
        lloyd = [
            t
            for t, m in zip(per, r.get("pass_messages", []), strict=False)
            if "iteration" in m
        ]
        ratio = ""
        read = r.get("read_in_case_s") or reads.get(r["size"])
        if lloyd and read:
            ratio = f"{float(np.median(lloyd)) / read:.2f}"
        load = ", ".join(f"{x:.1f}" for x in r.get("load_average", ()))
        if r.get("earlier"):
            load = f"earlier run ({r.get('date', 'before 2026-12')})"
        lines.append(
            f"| {r['case']} ({r['size']}x{r['size']}x{r['channels']}) | "
            f"{r.get('engine', '')} | {r['data_gib']:.2f} | "
            f"{r['time_s']:.1f} | {r.get('passes', '')} | "
            f"{', '.join(f'{t:.1f}' for t in per)} | {ratio} | {r['peak_gib']:.2f} | "
            f"{r.get('ari', ''):{'.3f' if 'ari' in r else ''}} | {load} |"
        )
    (out / "outofcore.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
