"""How the search over k fits one clustering: seeds, input checks, estimators.

The estimator factories give one unfitted estimator per ``k``; plain
scikit-learn k-means runs in the compiled loops of :mod:`clusterspy.engines.lloyd`
(same partition, without holding the GIL), anything else through
:func:`clusterspy.algorithms.fit_labels`.
"""

from __future__ import annotations

import copy

import numpy as np

from ..algorithms import fit_labels
from ..engines import lloyd

# k-means starts per k (see _estimator_factory).
_N_INIT = 3


def _as_features(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n_samples, n_features), not {X.ndim}-D.")
    if not np.isfinite(X).all():
        raise ValueError("`X` contains NaN or infinite values.")
    return X


def _check_ks(ks, n_samples, minimum=1):
    ks = np.asarray(ks)
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer):
        raise ValueError("`ks` must be a non-empty 1-D sequence of ints.")
    ks = ks.astype(np.int64)
    if (np.diff(ks) <= 0).any():
        raise ValueError("`ks` must be strictly increasing.")
    if ks[0] < minimum:
        raise ValueError(f"`ks` must be >= {minimum}, got {int(ks[0])}.")
    if ks[-1] > n_samples:
        raise ValueError(
            f"`ks` goes up to {int(ks[-1])} clusters but there are only "
            f"{n_samples} samples."
        )
    return ks


def _seed_sequence(random_state):
    """A ``SeedSequence`` from None, an int, a RandomState or a Generator."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(0, 2**31 - 1)))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63 - 1)))
    return np.random.SeedSequence(random_state)


def _int_seed(seed_sequence):
    return int(seed_sequence.generate_state(1)[0])


def _default_estimator_factory(random_state):
    from sklearn.cluster import KMeans

    seed = _int_seed(_seed_sequence(random_state))

    def factory(k):
        return KMeans(n_clusters=k, n_init=_N_INIT, random_state=seed)

    factory.same_every_call = True  # see _labeller
    return factory


def _labeller(make_estimator, ks, X):
    """``labels(Z, k)``: labels of ``k`` clusters fitted on ``Z`` (shaped like
    ``X``) by the estimator that ``make_estimator(k)`` builds.

    Plain scikit-learn k-means runs in compiled loops that give the same
    partition without holding the GIL (:mod:`.engines.lloyd`). The factories
    built here (:func:`_estimator_factory`) give the same estimator on every
    call, so its parameters are read once per ``k``; any other factory is
    called for every fit, as before.
    """
    if not getattr(make_estimator, "same_every_call", False):

        def labels(Z, k):
            estimator = make_estimator(int(k))
            params = lloyd.kmeans_params(estimator, Z)
            if params is None:
                return fit_labels(estimator, Z)[0]
            return lloyd.fit_kmeans(Z, **params)[0]

        return labels
    fast = {}
    for k in ks:
        params = lloyd.kmeans_params(make_estimator(int(k)), X) if k > 1 else None
        if params is not None:
            fast[int(k)] = params

    def labels(Z, k):
        params = fast.get(int(k))
        if params is None:
            return fit_labels(make_estimator(int(k)), Z)[0]
        if isinstance(params["random_state"], np.random.RandomState):
            # Every fit starts from the generator's state as given, as it does
            # with a newly built (cloned) estimator, whatever the threads do.
            params = dict(params, random_state=copy.deepcopy(params["random_state"]))
        return lloyd.fit_kmeans(Z, **params)[0]

    return labels
