"""clusterspy against HyperSpy's built-in cluster analysis, side by side.

Run from the repository root::

    python benchmarks/run.py            # full mode, ~15-20 min on 2 cores
    python benchmarks/run.py --quick    # under 3 minutes

Every case runs in its own subprocess (``_worker.py``), so that peak
memories do not mix; see ``benchmarks/README.md`` for what is measured and
how to read the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _data  # noqa: E402

MiB = 2**20
REAL_DATA = Path("/work/shared/data/eds_sem_30x30.bcf")
TOOLS = ("hyperspy", "clusterspy")
METRICS = ("elbow", "silhouette", "gap")
CASE_IDS = ("signal", "decomposition", "estimate", "lazy", "real", "kmeans")
# Case 3: (metric, n_references for both tools or None for each tool's
# default: HyperSpy's n_ref=4, clusterspy's 10). Components: the 3
# features side by side, 5 for clusterspy alone at 512x512.
ESTIMATES = (
    ("elbow", None),
    ("silhouette", None),
    ("gap", 10),
    ("gap", None),
)
ESTIMATE_COMPONENTS = {"both": 3, "clusterspy": 5}

# What each mode runs. Sizes are navigation (x, y); channels are 1024.
MODES = {
    "quick": {
        "ca_sizes": [(64, 64), (128, 128)],
        "ca_repeats": 2,
        "estimate_both": [(64, 64)],
        "estimate_clusterspy": [],  # the full mode runs clusterspy alone at 512x512
        "estimate_repeats": 1,
        "lazy_shape": (64, 64, 256),
        "lazy_repeats": 2,
        "real_repeats": 3,
        "kmeans_size": (128, 128),
        "kmeans_repeats": 2,
        "timeout": 150,
    },
    "full": {
        "ca_sizes": [(64, 64), (256, 256), (512, 512)],
        "ca_repeats": 3,
        "estimate_both": [(64, 64), (100, 100), (150, 150)],
        "estimate_clusterspy": [(512, 512)],
        "estimate_repeats": 1,
        "lazy_shape": (256, 256, 1024),
        "lazy_repeats": 3,
        "real_repeats": 5,
        "kmeans_size": (512, 512),
        "kmeans_repeats": 3,
        "timeout": 1800,
    },
}
CHANNELS = 1024
# Above this share of the machine's CPU used by other processes during a
# case, its figures are flagged as taken on a busy machine.
BUSY_SHARE = 0.05


def _parse_shape(text):
    parts = tuple(int(p) for p in text.lower().replace("×", "x").split("x"))
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError("expected NXxNYxCHANNELS, e.g. 256x256x1024")
    return parts


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="output folder (default benchmarks/results); --quick writes "
        "results-quick.json/.md there, the full mode results.json/.md",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "clusterspy-benchmarks",
        help="where generated data, zarr stores and decompositions are kept "
        "between runs (default: %(default)s)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="BLAS and OpenMP threads, set with threadpoolctl (default: all cores)",
    )
    p.add_argument(
        "--omp-wait-policy",
        default="passive",
        choices=("passive", "active"),
        help="OMP_WAIT_POLICY of every case's subprocess (default passive: "
        "idle OpenMP threads sleep instead of spinning)",
    )
    p.add_argument(
        "--lazy-shape",
        type=_parse_shape,
        default=None,
        help="NXxNYxCHANNELS of the lazy case (default 256x256x1024, quick "
        "64x64x256); 1024x1024x2048 is 8 GiB on disk",
    )
    p.add_argument("--repeats", type=int, default=None, help="override all repeats")
    p.add_argument(
        "--cases",
        default=",".join(CASE_IDS),
        help=f"comma-separated subset of {','.join(CASE_IDS)}",
    )
    p.add_argument(
        "--real-data",
        type=Path,
        default=REAL_DATA,
        help="EDS map of the real-data case (skipped where absent)",
    )
    p.add_argument("--timeout", type=int, default=None, help="seconds per case")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASE_IDS)
    if unknown:
        p.error(f"unknown case(s) {sorted(unknown)}; choose from {CASE_IDS}")
    return args


# -- running cases ---------------------------------------------------------------------


class Runner:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = Path(workdir)
        self.env = dict(os.environ)
        self.env["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
        self.env["PYTHONWARNINGS"] = "ignore"
        self.count = 0

    def run(self, spec, timeout):
        self.count += 1
        spec = dict(spec, threads=self.args.threads)
        name = f"case{self.count:03d}"
        spec_path = self.workdir / f"{name}.spec.json"
        result_path = self.workdir / f"{name}.result.json"
        log_path = self.workdir / f"{name}.log"
        spec_path.write_text(json.dumps(spec, default=str))
        cmd = [
            sys.executable,
            str(HERE / "_worker.py"),
            str(spec_path),
            str(result_path),
        ]
        t0 = time.perf_counter()
        with open(log_path, "w") as log:
            try:
                proc = subprocess.run(
                    cmd, env=self.env, stdout=log, stderr=log, timeout=timeout
                )
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        wall = time.perf_counter() - t0
        if result_path.exists():
            result = json.loads(result_path.read_text())
        else:
            tail = log_path.read_text()[-2000:]
            status = "timeout" if rc == "timeout" else "error"
            error = f"timed out after {timeout} s" if rc == "timeout" else f"exit {rc}"
            result = {"spec": spec, "status": status, "error": error, "log": tail}
        result["subprocess_wall_s"] = wall
        return result


def _size_text(shape):
    return "×".join(str(n) for n in shape)


def _mib(nbytes):
    return None if nbytes is None else nbytes / MiB


def plan_cases(args, mode, paths):
    """The list of ``(label, spec)`` to run, in order."""
    m = MODES[mode]
    rep = args.repeats
    cases = []
    for source, cid in (("signal", "signal"), ("decomposition", "decomposition")):
        if cid not in args.cases:
            continue
        for shape in m["ca_sizes"]:
            key = _data.dataset_key(shape, CHANNELS)
            for tool in TOOLS:
                cases.append(
                    {
                        "case": "cluster_analysis",
                        "group": f"{1 if source == 'signal' else 2} cluster_analysis "
                        + ("signal" if source == "signal" else "decomposition (5)"),
                        "source": source,
                        "tool": tool,
                        "shape": shape + (CHANNELS,),
                        "npy": paths[key]["npy"],
                        "repeats": rep or m["ca_repeats"],
                    }
                )
    if "estimate" in args.cases:
        runs = [(s, TOOLS, "both") for s in m["estimate_both"]]
        runs += [(s, ("clusterspy",), "clusterspy") for s in m["estimate_clusterspy"]]
        for shape, tools, who in runs:
            key = _data.dataset_key(shape, CHANNELS)
            components = ESTIMATE_COMPONENTS[who]
            for metric, n_references in ESTIMATES:
                if metric == "gap" and n_references is None and who == "clusterspy":
                    continue  # its default is 10: the row above
                label = metric
                if metric == "gap":
                    label += (
                        f", B = {n_references} both"
                        if n_references
                        else ", each tool's default B (HyperSpy 4, clusterspy 10)"
                    )
                for tool in tools:
                    cases.append(
                        {
                            "case": "estimate",
                            "group": f"3 estimate_number_of_clusters ({label}), "
                            f"{components} components",
                            "metric": metric,
                            "n_references": n_references,
                            "components": components,
                            "tool": tool,
                            "shape": shape + (CHANNELS,),
                            "npy": paths[key]["npy"],
                            # medians of 3, except HyperSpy's slow large maps
                            "repeats": rep
                            or (
                                m["estimate_repeats"]
                                if tool == "hyperspy" and shape[0] * shape[1] > 100**2
                                else 3
                            ),
                        }
                    )
    if "lazy" in args.cases:
        shape = args.lazy_shape or m["lazy_shape"]
        key = _data.dataset_key(shape[:2], shape[2])
        for tool in TOOLS:
            cases.append(
                {
                    "case": "cluster_analysis",
                    "group": "4 lazy (zarr) cluster_analysis signal",
                    "source": "signal",
                    "lazy": True,
                    "tool": tool,
                    "shape": shape,
                    "npy": paths[key]["npy"],
                    "zspy": paths[key]["zspy"],
                    "repeats": rep or m["lazy_repeats"],
                }
            )
    if "real" in args.cases:
        for tool in TOOLS:
            cases.append(
                {
                    "case": "real",
                    "group": "5 real EDS map, decomposition (5)",
                    "tool": tool,
                    "path": str(args.real_data),
                    "repeats": rep or m["real_repeats"],
                }
            )
    if "kmeans" in args.cases:
        shape = m["kmeans_size"]
        key = _data.dataset_key(shape, CHANNELS)
        cases.append(
            {
                "case": "kmeans_floor",
                "group": "6 k-means core vs floor",
                "tool": "scikit-learn KMeans",
                "shape": shape + (CHANNELS,),
                "npy": paths[key]["npy"],
                "repeats": rep or m["kmeans_repeats"],
            }
        )
    return cases


def datasets_needed(args, mode):
    m = MODES[mode]
    need = {}

    def add(shape, channels, **flags):
        key = _data.dataset_key(shape, channels)
        item = need.setdefault(key, {"shape": list(shape), "channels": channels})
        item.update({k: v for k, v in flags.items() if v})

    if "signal" in args.cases:
        for shape in m["ca_sizes"]:
            add(shape, CHANNELS)
    if "decomposition" in args.cases:
        for shape in m["ca_sizes"]:
            add(shape, CHANNELS, decomposition=True)
    if "estimate" in args.cases:
        for shape in m["estimate_both"] + m["estimate_clusterspy"]:
            add(shape, CHANNELS, decomposition=True)
    if "lazy" in args.cases:
        shape = args.lazy_shape or m["lazy_shape"]
        add(shape[:2], shape[2], zspy=True)
    if "kmeans" in args.cases:
        add(m["kmeans_size"], CHANNELS)
    return list(need.values())


# -- summarising -------------------------------------------------------------------


def _ari(path_a, path_b):
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    a, b = np.load(path_a).ravel(), np.load(path_b).ravel()
    return float(adjusted_rand_score(a, b))


def summarise(results):
    """Add data sizes, ratios and cross-tool ARIs to the raw results."""
    by_key = {}
    for r in results:
        spec = r["spec"]
        if spec["case"] == "kmeans_floor":
            continue
        if "shape" in spec:
            n = 1
            for d in spec["shape"]:
                n *= int(d)
            r["data_bytes"] = n * 4
        key = (spec["group"], tuple(spec.get("shape") or ()))
        by_key.setdefault(key, {})[spec["tool"]] = r
        if r.get("status") == "ok" and r.get("data_bytes"):
            r["extra_peak_over_data"] = r["extra_peak_bytes"] / r["data_bytes"]
    for pair in by_key.values():
        hs, cs = pair.get("hyperspy"), pair.get("clusterspy")
        if not (hs and cs and hs["status"] == "ok" and cs["status"] == "ok"):
            continue
        cs["speed_ratio_hyperspy_over_clusterspy"] = hs["time_s"] / cs["time_s"]
        cs["memory_ratio_hyperspy_over_clusterspy"] = (
            hs["extra_peak_bytes"] / cs["extra_peak_bytes"]
            if cs["extra_peak_bytes"] > 0
            else None
        )
        la, lb = hs["spec"].get("labels_out"), cs["spec"].get("labels_out")
        if la and lb and Path(la).exists() and Path(lb).exists():
            ari = _ari(la, lb)
            cs["ari_hyperspy_vs_clusterspy"] = ari
            hs["ari_hyperspy_vs_clusterspy"] = ari


def _fmt(value, fmt):
    return "—" if value is None else format(value, fmt)


def _row(r):
    spec = r["spec"]
    size = _size_text(spec["shape"]) if "shape" in spec else "?"
    if r.get("shape"):
        size = _size_text(r["shape"][:-1][::-1] + r["shape"][-1:])
    data_mib = _mib(r.get("data_bytes"))
    notes = []
    if r["status"] != "ok":
        text = r.get("skipped") or r.get("error", "")
        return [
            spec["group"],
            size,
            _fmt(data_mib, ".1f"),
            spec["tool"],
            "—",
            "—",
            "—",
            "—",
            "—",
            f"{r['status']}: {text}"[:160].replace("|", "/"),
        ]
    ari = r.get("ari_truth")
    if spec["case"] == "real":
        ari = r.get("ari_hyperspy_vs_clusterspy")
        notes.append("ARI between the two partitions")
        notes.append(r.get("signal_class", ""))
    elif "ari_hyperspy_vs_clusterspy" in r and spec["tool"] == "clusterspy":
        notes.append(f"ARI vs HyperSpy {r['ari_hyperspy_vs_clusterspy']:.3f}")
    if spec["case"] == "estimate":
        notes.append(f"k = {r.get('estimated_k')} (truth 4)")
    if "memory_ratio_hyperspy_over_clusterspy" in r:
        mr = r["memory_ratio_hyperspy_over_clusterspy"]
        if mr is not None:
            notes.append(f"memory HyperSpy/clusterspy {mr:.2f}")
    share = r.get("other_cpu_share")
    if share is not None and share > BUSY_SHARE:
        notes.append(f"busy machine: other processes used {share:.0%} of the CPU")
    speed = r.get("speed_ratio_hyperspy_over_clusterspy")
    return [
        spec["group"],
        size,
        _fmt(data_mib, ".1f"),
        spec["tool"],
        _fmt(r["time_s"], ".3f"),
        _fmt(_mib(r["extra_peak_bytes"]), ".1f"),
        _fmt(r.get("extra_peak_over_data"), ".2f"),
        _fmt(ari, ".3f"),
        _fmt(speed, ".2f"),
        "; ".join(n for n in notes if n),
    ]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(path, meta, results):
    env = meta["thread_settings"]
    lines = [
        f"# clusterspy vs HyperSpy — {meta['mode']} mode",
        "",
        f"- Date: {meta['date']}",
        f"- Machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores, "
        f"{meta['machine']['ram_gib']:.1f} GiB RAM, {meta['machine']['platform']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"- Threads: OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY')}, BLAS and OpenMP "
        f"limited to {env.get('threadpoolctl_limit')} thread(s) with threadpoolctl "
        f"({env.get('threadpools_text', '')})",
        f"- Run time: {meta['total_s']:.0f} s; data cache: `{meta['cache_dir']}`",
        f"- Load: 1-min load average {meta['loadavg_start']} at the start; "
        f"{meta['busy_cases']} of {len(results)} cases ran while other processes "
        f"used more than {BUSY_SHARE:.0%} of the CPU (flagged in the notes)",
        "",
        "Time: median of the repeats of the call alone (data loading, generation and "
        "decomposition are set-up, not timed). Extra peak: peak resident memory during "
        "the call minus resident memory just before it (largest over the repeats). "
        "Data size: the signal's array (float32). Speed ratio: HyperSpy's median time / "
        "clusterspy's (> 1: clusterspy faster). ARI: adjusted Rand index against the "
        "generated truth (real data: between the two tools).",
        "",
    ]
    header = [
        "case",
        "size (x×y×channels)",
        "data MiB",
        "tool",
        "median time s",
        "extra peak MiB",
        "extra peak / data",
        "ARI",
        "speed ratio HS/cs",
        "notes",
    ]
    rows = [_row(r) for r in results if r["spec"]["case"] != "kmeans_floor"]
    lines.append(_table(header, rows))
    for r in results:
        if r["spec"]["case"] != "kmeans_floor":
            continue
        lines += ["", "## 6 k-means core vs its floor", ""]
        if r["status"] != "ok":
            lines.append(f"{r['status']}: {r.get('error', '')}")
            continue
        rates = r["rates"]
        lines += [
            f"scikit-learn `{r['estimator']}` (as clusterspy builds it) on the "
            f"norm-preprocessed {_size_text(r['spec']['shape'])} map: "
            f"N={r['n_samples']}, D={r['n_features']}, k={r['n_clusters']}, "
            f"{r['dtype']}. Floor per iteration = max(2·N·D·k / GEMM rate, "
            "N·D·itemsize / read bandwidth).",
            "",
            f"Measured: float32 GEMM {rates['gemm_float32_flops'] / 1e9:.1f} GFLOP/s, "
            f"float64 GEMM {rates['gemm_float64_flops'] / 1e9:.1f} GFLOP/s "
            "(2048×2048), read bandwidth "
            f"{rates['read_bandwidth'] / 1e9:.1f} GB/s (sum of 512 MiB; copy "
            f"{rates['copy_bandwidth'] / 1e9:.1f} GB/s counting read + write).",
            "",
        ]
        rows = [
            [
                "fit time / n_iter_ (n_init=1)",
                f"{r['time_s']:.3f} s / {r['n_iter']}",
                f"{r['per_iteration_s'] * 1e3:.1f}",
                f"{r['floor_s'] * 1e3:.1f}",
                f"{r['ratio_to_floor']:.2f}",
            ]
        ]
        if "fit_blas1_s" in r:
            rows.append(
                [
                    "fit / n_iter_ with BLAS limited to 1 thread around fit()",
                    f"{r['fit_blas1_s']:.3f} s / {r['fit_blas1_n_iter']}",
                    f"{r['fit_blas1_per_iteration_s'] * 1e3:.1f}",
                    f"{r['floor_s'] * 1e3:.1f}",
                    f"{r['fit_blas1_ratio_to_floor']:.2f}",
                ]
            )
        if "init_s" in r:
            rows.append(
                [
                    "k-means++ initialisation alone (sklearn.cluster.kmeans_plusplus)",
                    f"{r['init_s']:.3f} s",
                    "—",
                    "—",
                    "—",
                ]
            )
            rows.append(
                [
                    "(fit time − initialisation) / n_iter_",
                    f"{r['time_s'] - r['init_s']:.3f} s / {r['n_iter']}",
                    f"{r['fit_minus_init_per_iteration_s'] * 1e3:.1f}",
                    f"{r['floor_s'] * 1e3:.1f}",
                    f"{r['fit_minus_init_ratio_to_floor']:.2f}",
                ]
            )
        if "lloyd_iteration_s" in r:
            rows.append(
                [
                    "one Lloyd iteration alone (sklearn's lloyd_iter_chunked_dense)",
                    "—",
                    f"{r['lloyd_iteration_s'] * 1e3:.1f}",
                    f"{r['floor_s'] * 1e3:.1f}",
                    f"{r['lloyd_ratio_to_floor']:.2f}",
                ]
            )
        lines.append(
            _table(
                ["measure", "fit", "per iteration ms", "floor ms", "ratio to floor"],
                rows,
            )
        )
        lines.append(
            f"\nFloor terms: compute {r['floor_flops_s'] * 1e3:.2f} ms, memory "
            f"{r['floor_bytes_s'] * 1e3:.2f} ms. ARI of the fit vs truth "
            f"{r['ari_truth']:.3f}. Other processes used "
            f"{r.get('other_cpu_share', 0):.0%} of the CPU during the fits."
        )
    failed = [r for r in results if r["status"] not in ("ok", "skipped")]
    if failed:
        lines += ["", "## Failures", ""]
        for r in failed:
            lines.append(
                f"- {r['spec']['group']} / {r['spec']['tool']}: {r.get('error')}"
            )
    path.write_text("\n".join(lines) + "\n")


def machine_info():
    ram = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gib": (ram or 0) / 2**30,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions():
    out = {}
    for name in ("hyperspy", "clusterspy", "scikit-learn", "numpy", "dask", "zarr"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _progress(i, n, r):
    spec = r["spec"]
    size = _size_text(spec["shape"]) if "shape" in spec else ""
    head = f"[{i}/{n}] {spec['group']} {size} {spec['tool']}:"
    if r["status"] != "ok":
        text = r.get("skipped") or r.get("error")
        return f"{head} {r['status']} ({text})"
    if spec["case"] == "kmeans_floor":
        return (
            f"{head} {r['per_iteration_s'] * 1e3:.1f} ms/iteration, floor "
            f"{r['floor_s'] * 1e3:.1f} ms, ratio {r['ratio_to_floor']:.2f}"
        )
    extra = f"extra peak {r['extra_peak_bytes'] / MiB:.0f} MiB"
    if r.get("other_cpu_share", 0) > BUSY_SHARE:
        extra += f", BUSY: others used {r['other_cpu_share']:.0%} CPU"
    more = ""
    if "ari_truth" in r:
        more = f", ARI {r['ari_truth']:.3f}"
    if "estimated_k" in r:
        more = f", k={r['estimated_k']}"
    return f"{head} {r['time_s']:.3f} s, {extra}{more} ({r['subprocess_wall_s']:.0f} s)"


def main(argv=None):
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    timeout = args.timeout or MODES[mode]["timeout"]
    t_start = time.perf_counter()
    with open("/proc/loadavg") as f:
        loadavg_start = f.read().split()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "results-quick" if args.quick else "results"
    print(
        f"clusterspy benchmarks, {mode} mode: {args.threads} thread(s), "
        f"OMP_WAIT_POLICY={args.omp_wait_policy}, cache {args.cache_dir}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="clusterspy-bench-") as tmp:
        runner = Runner(args, tmp)
        check = runner.run({"case": "check", "tool": "-", "group": "check"}, 300)
        if check["status"] != "ok":
            print("data recipe check failed:", check.get("error"), check.get("log"))
            return 1
        need = datasets_needed(args, mode)
        print(f"preparing {len(need)} dataset(s) (cached between runs)...", flush=True)
        t0 = time.perf_counter()
        prep = runner.run(
            {
                "case": "prepare",
                "tool": "-",
                "group": "prepare",
                "cache_dir": str(args.cache_dir),
                "datasets": need,
            },
            3600,
        )
        if prep["status"] != "ok":
            print("preparing data failed:", prep.get("error"), prep.get("traceback"))
            print(prep.get("log", ""))
            return 1
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
        paths = prep["datasets"]
        cases = plan_cases(args, mode, paths)
        if "real" in args.cases and not args.real_data.exists():
            cases = [c for c in cases if c["case"] != "real"]
            print(f"real data {args.real_data} not found: case 5 skipped")
        results = []
        for i, spec in enumerate(cases, 1):
            spec["labels_out"] = str(Path(tmp) / f"labels{i:03d}.npy")
            r = runner.run(spec, timeout)
            results.append(r)
            print(_progress(i, len(cases), r), flush=True)
        summarise(results)
        for r in results:  # label files live in the temporary folder
            r["spec"].pop("labels_out", None)
    env = next((r["environment"] for r in results if "environment" in r), {})
    env = dict(env)
    env["threadpools_text"] = ", ".join(
        f"{p['internal_api']} {p['prefix']}: {p['num_threads']}"
        for p in env.get("threadpools", [])
    )
    meta = {
        "mode": mode,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": machine_info(),
        "versions": versions(),
        "thread_settings": env,
        "cache_dir": str(args.cache_dir),
        "prepare": prep.get("datasets"),
        "total_s": time.perf_counter() - t_start,
        "loadavg_start": loadavg_start,
        "busy_cases": sum(
            1 for r in results if r.get("other_cpu_share", 0) > BUSY_SHARE
        ),
        "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
    }
    json_path = args.out / f"{stem}.json"
    md_path = args.out / f"{stem}.md"
    json_path.write_text(
        json.dumps({"meta": meta, "results": results}, indent=1, default=str)
    )
    write_markdown(md_path, meta, results)
    print(f"wrote {json_path} and {md_path} ({meta['total_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
