"""One benchmark case, run in a subprocess of ``run.py``.

Usage (by ``run.py`` only)::

    python _worker.py SPEC.json RESULT.json

The spec names the case, the tool (``"hyperspy"`` or ``"clusterspy"``), the
data and the number of repeats. The worker limits BLAS and OpenMP threads
with threadpoolctl before anything runs (``OMP_WAIT_POLICY`` comes from the
environment ``run.py`` gives it), sets the case up (untimed), then times the
call ``repeats`` times while a thread samples the process's resident memory.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import statistics
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

MiB = 2**20
N_CLUSTERS = 4
N_COMPONENTS = 5  # decomposition components clustered in cases 2, 3 and 5
N_KEPT_COMPONENTS = 16  # decomposition components kept in the cache


# -- memory ----------------------------------------------------------------------


def _status_kib(*fields):
    out = {}
    with open("/proc/self/status", "rb") as f:
        for line in f:
            key = line.split(b":", 1)[0].decode()
            if key in fields:
                out[key] = int(line.split()[1])
    return out


def rss_bytes():
    return _status_kib("VmRSS")["VmRSS"] * 1024


def _reset_hwm():
    """Reset the kernel's peak-RSS counter (VmHWM); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    s = _status_kib("VmHWM", "VmRSS")
    return s["VmHWM"] <= s["VmRSS"] + 64


def _cpu_snapshot():
    """Machine-wide busy/steal CPU seconds (/proc/stat), this process's, loadavg."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    own = os.times()
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    return {
        "busy": (user + nice + system + irq + softirq) / tick,
        "steal": steal / tick,
        "own": own.user + own.system,
        "wall": time.perf_counter(),
        "load1": load1,
    }


def _cpu_delta(a, b):
    """CPU seconds used by this process and by everything else in between."""
    own = b["own"] - a["own"]
    return {
        "own_cpu_s": own,
        "other_cpu_s": max(0.0, (b["busy"] - a["busy"]) - own),
        "steal_s": b["steal"] - a["steal"],
        "wall_s": b["wall"] - a["wall"],
        "loadavg_1min_before": a["load1"],
    }


class PeakMemory:
    """Peak resident memory during a ``with`` block, minus the memory before it.

    A thread reads ``VmRSS`` from ``/proc/self/status`` every ``interval``
    seconds. As that thread needs the GIL, which some C code holds for long
    stretches, the kernel's own high-water mark (``VmHWM``, reset just before
    the block through ``/proc/self/clear_refs``) is read at the end too; the
    peak reported is the larger of the two.
    """

    def __init__(self, interval=0.005):
        self.interval = interval

    def __enter__(self):
        gc.collect()
        self.hwm_reset = _reset_hwm()
        self.cpu_start = _cpu_snapshot()
        self.before = rss_bytes()
        self.sampled_peak = self.before
        self.n_samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            rss = rss_bytes()
            self.n_samples += 1
            if rss > self.sampled_peak:
                self.sampled_peak = rss
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.after = rss_bytes()
        self.hwm = _status_kib("VmHWM")["VmHWM"] * 1024 if self.hwm_reset else None
        self.peak = max(self.sampled_peak, self.hwm or 0)
        self.extra = self.peak - self.before
        self.cpu = _cpu_delta(self.cpu_start, _cpu_snapshot())
        return False


def measure(call, repeats, reset=None, warmup=None):
    """Time ``call()`` ``repeats`` times, each with its peak memory.

    ``warmup()`` runs once first, untimed: the same call on a small crop of
    the data, so that first-call costs (imports, caches) count in neither
    the time nor the memory of either tool. ``reset()`` (untimed) runs before
    each repeat, for example to drop the results of the previous one.
    Returns ``(summary, last_return_value)``.
    """
    times, extras, records = [], [], []
    value = None
    if warmup is not None:
        t0 = time.perf_counter()
        warmup()
        warmup_s = time.perf_counter() - t0
    else:
        warmup_s = None
    for _ in range(repeats):
        if reset is not None:
            reset()
        value = None
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            value = call()
            elapsed = time.perf_counter() - t0
        times.append(elapsed)
        extras.append(mem.extra)
        records.append(
            {
                "time_s": elapsed,
                "rss_before_bytes": mem.before,
                "peak_sampled_bytes": mem.sampled_peak,
                "peak_hwm_bytes": mem.hwm,
                "rss_after_bytes": mem.after,
                "extra_peak_bytes": mem.extra,
                "rss_samples": mem.n_samples,
                **mem.cpu,
            }
        )
    own = sum(r["own_cpu_s"] for r in records)
    other = sum(r["other_cpu_s"] for r in records)
    wall = sum(r["wall_s"] for r in records)
    summary = {
        "time_s": statistics.median(times),
        "time_min_s": min(times),
        "extra_peak_bytes": max(extras),
        "warmup_s": warmup_s,
        # Share of the machine's CPU time, during the calls, used by other
        # processes: > 0.05 means the figures were taken on a busy machine.
        "other_cpu_share": other / max(wall * (os.cpu_count() or 1), 1e-9),
        "own_cpu_over_wall": own / max(wall, 1e-9),
        "repeats": records,
    }
    return summary, value


# -- helpers ---------------------------------------------------------------------


def _ari(a, b):
    from sklearn.metrics import adjusted_rand_score

    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    ok = (a >= 0) & (b >= 0)
    return float(adjusted_rand_score(a[ok], b[ok]))


def _hs_labels(s):
    lab = np.asarray(s.learning_results.cluster_labels)
    return lab.argmax(axis=0).reshape(s.axes_manager.navigation_shape[::-1])


def _cs_labels(s):
    return np.asarray(s.clusterspy.get_cluster_labels(merged=True).data)


_HS_CLUSTER_ATTRS = (
    "cluster_labels",
    "cluster_algorithm",
    "number_of_clusters",
    "cluster_sum_signals",
    "cluster_centroid_signals",
    "cluster_distances",
    "cluster_centroids",
    "cluster_metric_data",
    "cluster_metric_index",
    "cluster_metric",
    "estimated_number_of_clusters",
)


def _reset_results(s):
    """Drop both tools' stored cluster results, so repeats start alike."""
    lr = s.learning_results
    for name in _HS_CLUSTER_ATTRS:
        if hasattr(lr, name):
            setattr(lr, name, None)
    if hasattr(lr, "clusterspy"):
        del lr.clusterspy


def _decomposition_cache(npy_path):
    return Path(str(npy_path)[: -len(".npy")] + ".decomposition.npz")


def prepare_decomposition(npy_path):
    """Run ``s.decomposition()`` once and keep its first components on disk."""
    out = _decomposition_cache(npy_path)
    if out.exists():
        return {"decomposition_cache": str(out), "cached": True}
    s, _ = _data.load_signal(npy_path)
    t0 = time.perf_counter()
    s.decomposition(print_info=False)
    elapsed = time.perf_counter() - t0
    lr = s.learning_results
    n = N_KEPT_COMPONENTS
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez(
        tmp,
        loadings=np.asarray(lr.loadings[:, :n]),
        factors=np.asarray(lr.factors[:, :n]),
        explained_variance=np.asarray(lr.explained_variance),
        number_significant_components=np.asarray(
            -1
            if lr.number_significant_components is None
            else lr.number_significant_components
        ),
    )
    os.replace(tmp, out)
    return {"decomposition_cache": str(out), "cached": False, "time_s": elapsed}


def _restore_decomposition(s, npy_path):
    """Put the cached decomposition results on ``s`` (as s.decomposition() would)."""
    with np.load(_decomposition_cache(npy_path)) as z:
        lr = s.learning_results
        lr.loadings = z["loadings"]
        lr.factors = z["factors"]
        lr.explained_variance = z["explained_variance"]
        nsc = int(z["number_significant_components"])
        lr.number_significant_components = None if nsc < 0 else nsc
    lr.decomposition_algorithm = "SVD"
    lr.output_dimension = None
    lr.poissonian_noise_normalized = False
    lr.centre = None
    lr.mean = None


def _small_copy(s, decomposition=False, n=16):
    """A ``n`` x ``n`` crop of ``s`` for warm-up calls (decomposed if asked)."""
    small = s.inav[:n, :n]
    if not getattr(small, "_lazy", False):
        small = small.deepcopy()
    if decomposition:
        small.decomposition(print_info=False)
    return small


def _estimate_function():
    import clusterspy.estimate

    return clusterspy.estimate.estimate_number_of_clusters


# -- cases -----------------------------------------------------------------------


def case_cluster_analysis(spec):
    """Cases 1, 2 and 4: k-means on the signal or on decomposition loadings."""
    import hyperspy.api as hs

    source = spec["source"]
    tool = spec["tool"]
    if spec.get("lazy"):
        s = hs.load(spec["zspy"], lazy=True)
        truth = np.load(str(spec["npy"])[: -len(".npy")] + ".truth.npy")
    else:
        s, truth = _data.load_signal(spec["npy"])
    if source == "decomposition":
        _restore_decomposition(s, spec["npy"])
    kwargs = {"preprocessing": "norm", "n_clusters": N_CLUSTERS, "random_state": 0}
    if source == "decomposition":
        kwargs["number_of_components"] = N_COMPONENTS
        if tool == "hyperspy":
            # HyperSpy's default takes cluster signals from the decomposition;
            # clusterspy's default takes them from the data: compare like for like.
            kwargs["source_for_centers"] = "signal"
    if tool == "hyperspy":

        def run(sig):
            sig.cluster_analysis(source, **kwargs)

    else:

        def run(sig):
            sig.clusterspy.cluster_analysis(source, show_progressbar=False, **kwargs)

    summary, _ = measure(
        lambda: run(s),
        spec["repeats"],
        reset=lambda: _reset_results(s),
        warmup=lambda: run(_small_copy(s, source == "decomposition")),
    )
    labels = _hs_labels(s) if tool == "hyperspy" else _cs_labels(s)
    np.save(spec["labels_out"], labels)
    summary["ari_truth"] = _ari(labels, truth)
    summary["call"] = (
        f"s.{'clusterspy.' if tool == 'clusterspy' else ''}cluster_analysis("
        f"{source!r}, " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    )
    return summary


def case_estimate(spec):
    """Case 3: estimate_number_of_clusters on decomposition components.

    ``spec["components"]`` components (3 at 64x64 to 150x150, 5 at 512x512, as
    the issue asks); for the gap, ``spec["n_references"]`` reference sets for
    both tools (HyperSpy's ``n_ref``), or each tool's default where None.
    """
    s, _ = _data.load_signal(spec["npy"])
    _restore_decomposition(s, spec["npy"])
    metric = spec["metric"]
    kwargs = {
        "max_clusters": 10,
        "metric": metric,
        "preprocessing": "norm",
        "number_of_components": spec.get("components", N_COMPONENTS),
        "random_state": 0,
    }
    n_references = spec.get("n_references")
    if metric == "gap" and n_references is not None:
        kwargs["n_ref" if spec["tool"] == "hyperspy" else "n_references"] = n_references
    if spec["tool"] == "hyperspy":

        def run(sig):
            return sig.estimate_number_of_clusters(
                "decomposition", show_progressbar=False, **kwargs
            )

    else:
        try:
            func = _estimate_function()
        except ImportError as err:
            return {"skipped": f"not available ({err})"}
        import inspect

        params = inspect.signature(func).parameters
        for name in ("preprocessing", "number_of_components"):
            if name not in params:
                kwargs.pop(name)
        if "show_progressbar" in params:
            kwargs["show_progressbar"] = False

        def run(sig):
            return func(sig, "decomposition", **kwargs)

    summary, k = measure(
        lambda: run(s),
        spec["repeats"],
        reset=lambda: _reset_results(s),
        warmup=lambda: run(_small_copy(s, decomposition=True)),
    )
    if isinstance(k, (list, tuple)):  # HyperSpy's silhouette returns every peak
        k = [int(v) for v in k]
    elif k is not None:
        k = int(k)
    summary["estimated_k"] = k
    summary["call"] = f"estimate_number_of_clusters('decomposition', **{kwargs!r})"
    return summary


def case_real(spec):
    """Case 5: the EDS map: decomposition, then k-means on 5 components."""
    import hyperspy.api as hs

    loaded = hs.load(spec["path"])
    s = loaded[-1] if isinstance(loaded, list) else loaded
    s.change_dtype("float32")
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    kwargs = {
        "preprocessing": "norm",
        "n_clusters": N_CLUSTERS,
        "random_state": 0,
        "number_of_components": N_COMPONENTS,
    }
    if spec["tool"] == "hyperspy":
        kwargs["source_for_centers"] = "signal"

        def call():
            s.cluster_analysis("decomposition", **kwargs)

    else:

        def call():
            s.clusterspy.cluster_analysis(
                "decomposition", show_progressbar=False, **kwargs
            )

    summary, _ = measure(
        call, spec["repeats"], reset=lambda: _reset_results(s), warmup=call
    )
    labels = _hs_labels(s) if spec["tool"] == "hyperspy" else _cs_labels(s)
    np.save(spec["labels_out"], labels)
    summary["data_bytes"] = int(s.data.nbytes)
    summary["shape"] = list(s.data.shape)
    summary["signal_class"] = type(s).__name__
    return summary


def _best_time(func, min_time=0.5, min_repeats=3):
    """Fastest of repeated calls, repeating until ``min_time`` has passed."""
    func()  # warm up
    best, total, n = float("inf"), 0.0, 0
    while total < min_time or n < min_repeats:
        t0 = time.perf_counter()
        func()
        dt = time.perf_counter() - t0
        best, total, n = min(best, dt), total + dt, n + 1
    return best


def machine_rates(threads):
    """Measured GEMM rates (float32, float64) and memory bandwidths."""
    from concurrent.futures import ThreadPoolExecutor

    rates = {}
    n = 2048
    for dtype in ("float32", "float64"):
        a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
        b = a.T.copy()
        t = _best_time(lambda a=a, b=b: a @ b)
        rates[f"gemm_{dtype}_flops"] = 2 * n**3 / t
    # Read bandwidth: sum a 512 MiB float32 array, in one thread and split
    # across the threads (NumPy releases the GIL in reductions).
    big = np.ones(128 * MiB, dtype=np.float32)
    rates["bandwidth_probe_bytes"] = big.nbytes
    t = _best_time(lambda: big.sum(), min_repeats=3)
    read_1 = big.nbytes / t
    parts = np.array_split(big, max(1, threads))
    with ThreadPoolExecutor(max(1, threads)) as pool:
        t = _best_time(lambda: list(pool.map(np.sum, parts)), min_repeats=3)
    read_n = big.nbytes / t
    out = np.empty_like(big)
    t = _best_time(lambda: np.copyto(out, big), min_repeats=3)
    rates["read_bandwidth_1thread"] = read_1
    rates[f"read_bandwidth_{threads}threads"] = read_n
    rates["copy_bandwidth"] = 2 * big.nbytes / t  # read + write
    rates["read_bandwidth"] = max(read_1, read_n)
    return rates


def case_kmeans_floor(spec):
    """Case 6: scikit-learn's KMeans as clusterspy calls it, against its floor."""
    from sklearn.preprocessing import Normalizer

    from clusterspy.algorithms import make_estimator

    s, truth = _data.load_signal(spec["npy"])
    X = Normalizer().fit_transform(s.data.reshape(-1, s.data.shape[-1]))
    del s
    N, D = X.shape
    k = N_CLUSTERS
    threads = spec["threads"]
    rates = machine_rates(threads)
    fits = []
    estimator = None
    cpu_start = _cpu_snapshot()
    for _ in range(spec["repeats"]):
        estimator, _name = make_estimator("kmeans", {"n_clusters": k, "n_init": 1}, 0)
        t0 = time.perf_counter()
        estimator.fit(X)
        fits.append(time.perf_counter() - t0)
    cpu = _cpu_delta(cpu_start, _cpu_snapshot())
    fit = statistics.median(fits)
    n_iter = int(estimator.n_iter_)
    per_iter = fit / n_iter
    flops = 2.0 * N * D * k
    nbytes = N * D * X.dtype.itemsize
    gemm_key = f"gemm_{X.dtype}_flops"
    floor_flops = flops / rates[gemm_key]
    floor_bytes = nbytes / rates["read_bandwidth"]
    floor = max(floor_flops, floor_bytes)
    out = {
        "n_samples": N,
        "n_features": D,
        "dtype": str(X.dtype),
        "n_clusters": k,
        "estimator": repr(estimator),
        "fit_times_s": fits,
        "time_s": fit,
        "n_iter": n_iter,
        "per_iteration_s": per_iter,
        "floor_flops_s": floor_flops,
        "floor_bytes_s": floor_bytes,
        "floor_s": floor,
        "ratio_to_floor": per_iter / floor,
        "rates": rates,
        "ari_truth": _ari(estimator.labels_, truth),
        "other_cpu_share": cpu["other_cpu_s"]
        / max(cpu["wall_s"] * (os.cpu_count() or 1), 1e-9),
        "cpu": cpu,
    }
    # The same fits with BLAS single-threaded around the whole fit (scikit-learn
    # limits BLAS to one thread inside its Lloyd loop only, not during the
    # k-means++ initialisation, whose many small GEMMs suffer from BLAS threads).
    from threadpoolctl import threadpool_limits

    fits_blas1 = []
    for _ in range(spec["repeats"]):
        est1, _name = make_estimator("kmeans", {"n_clusters": k, "n_init": 1}, 0)
        with threadpool_limits(limits=1, user_api="blas"):
            t0 = time.perf_counter()
            est1.fit(X)
            fits_blas1.append(time.perf_counter() - t0)
    out["fit_blas1_times_s"] = fits_blas1
    out["fit_blas1_s"] = statistics.median(fits_blas1)
    out["fit_blas1_n_iter"] = int(est1.n_iter_)
    out["fit_blas1_per_iteration_s"] = out["fit_blas1_s"] / est1.n_iter_
    out["fit_blas1_ratio_to_floor"] = out["fit_blas1_per_iteration_s"] / floor
    # k-means++ initialisation alone (public API), on the centred data as in fit().
    from sklearn.cluster import kmeans_plusplus

    Xc = X - X.mean(axis=0)
    t_init = _best_time(
        lambda: kmeans_plusplus(Xc, k, random_state=0), min_time=1.0, min_repeats=3
    )
    out["init_s"] = t_init
    out["fit_minus_init_per_iteration_s"] = max(fit - t_init, 0.0) / n_iter
    out["fit_minus_init_ratio_to_floor"] = out["fit_minus_init_per_iteration_s"] / floor
    # The Lloyd iteration alone, without k-means++ initialisation, data
    # centring and the final assignment that fit() also does (private API).
    try:
        from sklearn.cluster._k_means_lloyd import lloyd_iter_chunked_dense
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        w = np.ones(N, dtype=X.dtype)
        centers = estimator.cluster_centers_.astype(X.dtype) - X.mean(axis=0)
        centers_new = np.empty_like(centers)
        weight = np.zeros(k, dtype=X.dtype)
        labels = np.full(N, -1, dtype=np.int32)
        shift = np.zeros(k, dtype=X.dtype)
        n_threads = _openmp_effective_n_threads()

        def one_iteration():
            # As scikit-learn runs it: OpenMP threads, single-threaded BLAS.
            with threadpool_limits(limits=1, user_api="blas"):
                lloyd_iter_chunked_dense(
                    Xc, w, centers, centers_new, weight, labels, shift, n_threads
                )

        t = _best_time(one_iteration, min_time=1.0, min_repeats=5)
        out["lloyd_iteration_s"] = t
        out["lloyd_ratio_to_floor"] = t / floor
        out["lloyd_n_threads"] = n_threads
    except Exception as err:  # pragma: no cover - private API moved
        out["lloyd_iteration_error"] = repr(err)
    return out


def case_prepare(spec):
    """Untimed: write datasets, zarr stores and decompositions to the cache."""
    done = {}
    for item in spec["datasets"]:
        shape, channels = tuple(item["shape"]), item["channels"]
        t0 = time.perf_counter()
        npy = _data.ensure_dataset(spec["cache_dir"], shape, channels)
        entry = {"npy": str(npy), "generate_s": time.perf_counter() - t0}
        if item.get("zspy"):
            t0 = time.perf_counter()
            entry["zspy"] = str(_data.ensure_zspy(spec["cache_dir"], shape, channels))
            entry["zspy_s"] = time.perf_counter() - t0
        if item.get("decomposition"):
            entry["decomposition"] = prepare_decomposition(npy)
        done[_data.dataset_key(shape, channels)] = entry
    return {"datasets": done}


def case_check(spec):
    _data.check_recipe()
    return {"recipe": "ok"}


CASES = {
    "cluster_analysis": case_cluster_analysis,
    "estimate": case_estimate,
    "real": case_real,
    "kmeans_floor": case_kmeans_floor,
    "prepare": case_prepare,
    "check": case_check,
}


def _environment(threads):
    from threadpoolctl import threadpool_info

    return {
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "threadpoolctl_limit": threads,
        "threadpools": [
            {
                k: v
                for k, v in info.items()
                if k in ("user_api", "internal_api", "num_threads", "prefix")
            }
            for info in threadpool_info()
        ],
    }


def main(spec_path, result_path):
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    spec = json.loads(Path(spec_path).read_text())
    threads = spec["threads"]
    from threadpoolctl import threadpool_limits

    import clusterspy  # noqa: F401 - registers the accessor

    # Limits stay in force for the life of this process.
    limiter = threadpool_limits(limits=threads)
    result = {"spec": spec}
    try:
        result.update(CASES[spec["case"]](spec))
        result["status"] = "skipped" if "skipped" in result else "ok"
    except Exception as err:
        result["status"] = "error"
        result["error"] = f"{type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc()
    result["environment"] = _environment(threads)
    limiter.restore_original_limits()
    Path(result_path).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
