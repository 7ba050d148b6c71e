"""engine="torch" against the memory engine: time, one Lloyd pass, its floor.

On a generated spectrum image (``clusterspy.datasets.spectrum_image``,
4 phases, float32), ``cluster_analysis("signal", preprocessing="norm",
n_clusters=4, random_state=0)`` with ``engine="memory"`` and
``engine="torch"`` (CUDA when there is one, else the CPU), and the same on the
lazy signal (``"blockwise"`` against ``"torch"``). Reported: the wall time of
each call (median of ``--repeats``), the agreement of the labels (ARI), and
for the torch engine on the eager features the time of one Lloyd pass (the
distances to every centre and the members' sums) next to its floor, the time
to read the features once at the device's measured read bandwidth (a
``sum`` over the same resident float32 tensor). The device, its name and
memory are recorded.

Run it with the project's environment::

    python benchmarks/torch_engine.py [--shape 256x256] [--channels 1024] \\
        [--repeats 3] [--out benchmarks/results]

Writes ``torch_engine.{json,md}`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def _median_time(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def lloyd_pass_and_floor(X, k, device, repeats):
    """Seconds of one Lloyd pass on the device, and the read-bandwidth floor."""
    import torch

    from clusterspy.engines.torch import _DeviceRows

    step = _DeviceRows(X, device)
    rng = np.random.default_rng(0)
    centers = X[rng.choice(X.shape[0], k, replace=False)].astype(np.float64)
    step(centers)  # warm-up (kernels, allocations)
    _sync(torch, device)
    one_pass = _median_time(lambda: (step(centers), _sync(torch, device)), repeats)
    resident = (
        step.X if step.resident else torch.as_tensor(X, dtype=torch.float32).to(device)
    )
    resident.sum()
    _sync(torch, device)
    read = _median_time(lambda: (resident.sum(), _sync(torch, device)), max(repeats, 5))
    nbytes = resident.numel() * 4
    return one_pass, read, nbytes / read


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="256x256")
    parser.add_argument("--channels", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    shape = tuple(int(v) for v in args.shape.split("x"))

    import torch
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import Normalizer

    import clusterspy
    from clusterspy._torch import describe_device, resolve_device

    s, truth = clusterspy.datasets.spectrum_image(
        shape=shape,
        n_channels=args.channels,
        n_phases=4,
        dtype="float32",
        return_truth=True,
        random_state=0,
    )
    lazy = s.as_lazy()
    device = resolve_device()
    kw = dict(preprocessing="norm", n_clusters=4, random_state=0)
    rows = []
    labels = {}
    for name, signal, engine in [
        ("eager", s, "memory"),
        ("eager", s, "torch"),
        ("lazy", lazy, "blockwise"),
        ("lazy", lazy, "torch"),
    ]:

        def call(signal=signal, engine=engine):
            signal.clusterspy.cluster_analysis(
                "signal", engine=engine, show_progressbar=False, **kw
            )

        call()  # warm-up: imports, torch's first kernels
        seconds = _median_time(call, args.repeats)
        result = signal.clusterspy.result
        labels[(name, engine)] = result.labels
        rows.append(
            {
                "data": name,
                "engine": engine,
                "seconds": seconds,
                "ari_truth": adjusted_rand_score(truth.ravel(), result.labels),
            }
        )
    for row in rows:
        ref = "memory" if row["data"] == "eager" else "blockwise"
        row["ari_vs_" + ref] = adjusted_rand_score(
            labels[(row["data"], ref)], labels[(row["data"], row["engine"])]
        )

    X = Normalizer().fit_transform(s.data.reshape(-1, args.channels))
    one_pass, read, bandwidth = lloyd_pass_and_floor(
        np.ascontiguousarray(X, dtype=np.float32), 4, device, args.repeats
    )
    info = describe_device(device)
    out = {
        "shape": list(shape),
        "channels": args.channels,
        "feature_bytes": int(X.shape[0] * X.shape[1] * 4),
        "device": info,
        "torch_threads": torch.get_num_threads(),
        "calls": rows,
        "lloyd_pass_seconds": one_pass,
        "read_seconds": read,
        "read_bandwidth_gb_s": bandwidth / 1e9,
        "pass_over_floor": one_pass / read,
    }
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "torch_engine.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        f"# engine='torch': {shape[0]}x{shape[1]} x {args.channels} float32, k=4",
        "",
        f"Device: {info['device']} ({info['name']}, "
        f"{info['memory_bytes'] / 2**30:.1f} GiB), torch {info['torch']}, "
        f"{torch.get_num_threads()} threads.",
        "",
        "| data | engine | seconds (median) | ARI vs memory/blockwise | ARI vs truth |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ref = row.get("ari_vs_memory", row.get("ari_vs_blockwise"))
        lines.append(
            f"| {row['data']} | {row['engine']} | {row['seconds']:.2f} | "
            f"{ref:.3f} | {row['ari_truth']:.3f} |"
        )
    lines += [
        "",
        f"One Lloyd pass on the device: {one_pass * 1e3:.1f} ms; reading the "
        f"{out['feature_bytes'] / 2**20:.0f} MiB of features once: {read * 1e3:.1f} ms "
        f"({bandwidth / 1e9:.1f} GB/s): {one_pass / read:.1f}x the floor.",
    ]
    (folder / "torch_engine.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    main()
