"""One Lloyd pass of the out-of-core engine against one read of the data, interleaved.

Usage (from the repository root)::

    OMP_WAIT_POLICY=passive python benchmarks/outofcore_pass.py [--path ZSPY] [--repeats 5]
        [--out benchmarks/results]

On a shared machine the time to read a file moves with the load, so the
ratio of a pass to a read is measured pair by pair: a read of the lazy map
(a dask sum, the floor of any pass), then one Lloyd pass of the blockwise
engine over it (``"norm"`` preprocessing, 4 centres, the engine's defaults:
its threads, 8 MiB sub-blocks, BLAS on one thread in each task), repeated.
The first pass also computes the rows' squared norms, which later passes
reuse. Default map: ``outofcore.py``'s 8 GiB one
(``/tmp/clusterspy-outofcore/si_1024x1024x2048.zspy``; run ``outofcore.py``
first to write it). Writes ``outofcore_pass.json`` and ``outofcore_pass.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--path", default="/tmp/clusterspy-outofcore/si_1024x1024x2048.zspy"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()

    import dask.array as da
    import hyperspy.api as hs
    import numpy as np
    from sklearn.preprocessing import Normalizer

    from clusterspy.engines import rowblocks

    s = hs.load(args.path, lazy=True)
    X = s.data
    n = int(np.prod(X.shape[:-1]))
    normalizer = Normalizer().fit(np.ones((1, X.shape[-1])))
    blocks = rowblocks.RowBlocks(X, np.ones(n, dtype=bool), normalizer, False)
    rng = np.random.default_rng(0)
    centres = rng.random((4, X.shape[-1]))
    centres /= np.linalg.norm(centres, axis=1)[:, None]
    reads, passes, loads = [], [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        float(da.sum(X).compute())
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        rowblocks._lloyd_pass(blocks, centres, "Lloyd pass")
        passes.append(time.perf_counter() - t)
        loads.append(os.getloadavg()[0])
    ratios = [p / r for p, r in zip(passes, reads, strict=True)]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "path": args.path,
        "data_gib": X.nbytes / 2**30,
        "chunks": [max(c) for c in X.chunks],
        "cores": os.cpu_count(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "threads": blocks.threads() or "the scheduler's",
        "read_s": reads,
        "pass_s": passes,
        "ratio": ratios,
        "load_1min": loads,
        "median_read_s": float(np.median(reads)),
        "median_pass_s": float(np.median(passes)),
        "median_ratio": float(np.median(ratios)),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "outofcore_pass.json").write_text(json.dumps(result, indent=1))
    lines = [
        "# One Lloyd pass against one read, interleaved",
        "",
        f"- Date: {result['date']}; {result['data_gib']:.2f} GiB lazy map "
        f"({os.path.basename(args.path)}, chunks {result['chunks']}); "
        f"{result['cores']} cores; OMP_WAIT_POLICY={result['OMP_WAIT_POLICY']}; "
        f"dask threads: {result['threads']}; BLAS one thread in each task",
        '- Each row: a read (dask sum), then one Lloyd pass (`"norm"`, 4 centres); '
        "the first pass also computes the rows' squared norms",
        "",
        "| pair | read s | pass s | pass / read | load (1 min) |",
        "|---|---|---|---|---|",
    ]
    for i, (r, p, q, load) in enumerate(
        zip(reads, passes, ratios, loads, strict=True), 1
    ):
        lines.append(f"| {i} | {r:.2f} | {p:.2f} | {q:.2f} | {load:.1f} |")
    lines.append(
        f"| median | {result['median_read_s']:.2f} | {result['median_pass_s']:.2f} | "
        f"{result['median_ratio']:.2f} | |"
    )
    (out / "outofcore_pass.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
