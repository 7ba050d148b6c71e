"""Check an installed clusterspy: a cluster analysis and an estimate of k.

Run by ``.ci/run`` in a venv installed without a C compiler
(``--expect-fallback``: no compiled module may be present, the fallbacks must
give the right answer and say so once at INFO level) and by cibuildwheel on
every wheel (``--expect-compiled``). Runs in a few seconds; it must not import
from the source tree, so run it from another directory.
"""

import argparse
import logging
import pathlib
import sys

from sklearn.metrics import adjusted_rand_score

parser = argparse.ArgumentParser()
group = parser.add_mutually_exclusive_group(required=True)
group.add_argument("--expect-compiled", action="store_true")
group.add_argument("--expect-fallback", action="store_true")
args = parser.parse_args()

records = []


class _Keep(logging.Handler):
    def emit(self, record):
        records.append(record)


logger = logging.getLogger("clusterspy")
logger.setLevel(logging.INFO)
logger.addHandler(_Keep())

import clusterspy  # noqa: E402
from clusterspy.datasets import spectrum_image  # noqa: E402
from clusterspy.engines import lloyd  # noqa: E402

package = pathlib.Path(clusterspy.__file__).parent
compiled = sorted(
    p.name for p in package.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")
)
print(f"clusterspy {clusterspy.__version__} from {package}; compiled: {compiled}")
if args.expect_fallback:
    assert not compiled, f"built without a compiler, yet found {compiled}"
    assert not lloyd.AVAILABLE
else:
    assert len(compiled) == 3, compiled
    assert lloyd.AVAILABLE

s, truth = spectrum_image(
    (24, 20), n_channels=64, n_phases=3, return_truth=True, random_state=0
)
s.decomposition(normalize_poissonian_noise=True, output_dimension=3, print_info=False)
# The gap statistic fits k-means (B + 1) x 5 times: the compiled k-means path.
estimate = s.clusterspy.estimate_number_of_clusters(
    "decomposition", number_of_components=2, preprocessing="norm", max_clusters=5,
    n_references=4, random_state=0, show_progressbar=False,
)
s.clusterspy.cluster_analysis(
    "decomposition", number_of_components=2, preprocessing="norm", n_clusters=3,
    random_state=0, show_progressbar=False,
)
labels = s.clusterspy.result.labels.ravel()
ari = adjusted_rand_score(truth.ravel(), labels)
print(f"estimated k = {estimate}; adjusted Rand index at k = 3: {ari:.3f}")
assert estimate == 3, estimate
assert ari > 0.95, ari

# The real map ships in the package (no ../shared in a fresh install).
from clusterspy.datasets import eds_sem_map  # noqa: E402

eds, image = eds_sem_map(return_image=True)
assert eds.data.shape == (30, 30, 2048) and image.data.shape == (30, 30)
assert eds.axes_manager.signal_axes[0].units == "keV"
eds.clusterspy.cluster_analysis(
    "signal", preprocessing="norm", n_clusters=4, random_state=0,
    show_progressbar=False,
)
print("eds_sem_map():", eds.clusterspy.result)
assert eds.clusterspy.result.counts.tolist() == [539, 227, 108, 26]

found = [r for r in records if "compiled loops are missing" in r.getMessage()]
missing = [r.getMessage() for r in found]
if args.expect_fallback:
    assert len(found) == 1 and found[0].levelno == logging.INFO, missing
    print("logged once:", missing[0])
else:
    assert not missing, missing
print("ok")
sys.exit(0)
