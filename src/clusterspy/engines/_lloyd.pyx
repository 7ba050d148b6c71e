# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""K-means (greedy k-means++ seeding, then Lloyd's iterations) in C.

Scikit-learn's ``KMeans`` is built for many features: each Lloyd iteration
computes every distance with BLAS in chunks of 256 rows inside an OpenMP
region, and each ``fit`` validates its input and parameters. With the
handful of features that estimating k works on (a few decomposition
components), those fixed costs dominate. These loops run the same algorithm
with the features stored feature-major, so that the inner loops run over
rows and vectorise; they skip the rows whose nearest centre cannot have
changed (Hamerly's bounds, which change no label), and they release the GIL,
so that several fits run side by side in threads.
:mod:`clusterspy.engines.lloyd` draws the random numbers as scikit-learn
draws them and calls :func:`kmeans`; the partitions are scikit-learn's.
"""

import numpy as np

from libc.float cimport DBL_EPSILON
from libc.math cimport INFINITY, sqrt

cdef enum:
    # Rows per block of the full distance computation: the block's distances
    # to every centre stay in the L1 cache.
    BLOCK = 128
    # Rows per partial sum of the k-means++ potential.
    SPAN = 64


cdef inline double _sum(const double* a, Py_ssize_t n) noexcept nogil:
    """Sum with four accumulators (one would wait on each addition)."""
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
        i += 4
    while i < n:
        s0 += a[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef void _distances_to(
    const double* Xt, Py_ssize_t n, Py_ssize_t d, const double* y, double* out
) noexcept nogil:
    """Squared distances from every row to the point ``y``."""
    cdef Py_ssize_t i, f
    cdef double c, t
    cdef const double* xf
    for i in range(n):
        out[i] = 0.0
    for f in range(d):
        c = y[f]
        xf = Xt + f * n
        for i in range(n):
            t = xf[i] - c
            out[i] += t * t


cdef inline void _row(const double* Xt, Py_ssize_t n, Py_ssize_t d, Py_ssize_t i, double* out) noexcept nogil:
    cdef Py_ssize_t f
    for f in range(d):
        out[f] = Xt[f * n + i]


cdef inline double _distance(const double* x, const double* c, Py_ssize_t d) noexcept nogil:
    """Distance between the points ``x`` and ``c``."""
    cdef Py_ssize_t f
    cdef double s = 0.0, t
    for f in range(d):
        t = x[f] - c[f]
        s = s + t * t
    return sqrt(s)


cdef Py_ssize_t _draw(
    const double* closest, Py_ssize_t n, const double* spans, double value
) noexcept nogil:
    """First row whose running sum of ``closest`` reaches ``value``
    (``numpy.searchsorted(cumsum, value)``), clipped to ``n - 1`` as
    scikit-learn clips it; ``spans`` holds the sums of blocks of SPAN rows."""
    cdef Py_ssize_t b = 0, i, n_spans = (n + SPAN - 1) // SPAN
    cdef double total = 0.0
    while b < n_spans - 1 and total + spans[b] < value:
        total += spans[b]
        b += 1
    i = b * SPAN
    while i < n:
        total += closest[i]
        if total >= value:
            return i
        i += 1
    return n - 1


cdef void _plusplus(
    const double* Xt, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
    Py_ssize_t first, const double* uniforms, Py_ssize_t n_trials,
    double* centres, double* closest, double* spans, double* trial,
    double* points, double* pots,
) noexcept nogil:
    """Greedy k-means++ (scikit-learn's ``_kmeans_plusplus``, unit weights).

    ``uniforms`` holds ``(k - 1) * n_trials`` numbers in [0, 1): for each new
    centre, ``n_trials`` candidates are drawn with probability proportional
    to the squared distance to the nearest centre so far, and the one that
    lowers the potential most is kept. The candidates are scored together,
    SPAN rows at a time, so that the rows are read once and the partial
    results stay in the L1 cache.
    """
    cdef Py_ssize_t c, t, i, f, b, best_t, start, size, n_spans = (n + SPAN - 1) // SPAN
    cdef double pot, cf, u
    cdef const double* xf
    cdef double* row
    cdef double* cl
    _row(Xt, n, d, first, centres)
    _distances_to(Xt, n, d, centres, closest)
    for b in range(n_spans):
        spans[b] = _sum(closest + b * SPAN, min(<Py_ssize_t>SPAN, n - b * SPAN))
    for c in range(1, k):
        pot = _sum(spans, n_spans)
        for t in range(n_trials):
            i = _draw(closest, n, spans, uniforms[(c - 1) * n_trials + t] * pot)
            _row(Xt, n, d, i, points + t * d)
            pots[t] = 0.0
        start = 0
        while start < n:
            size = min(<Py_ssize_t>SPAN, n - start)
            # The candidates' distances to this span of rows, in ``trial``
            # (n_trials * SPAN values: L1-resident), first feature first.
            xf = Xt + start
            for t in range(n_trials):
                cf = points[t * d]
                row = trial + t * SPAN
                for b in range(size):
                    u = xf[b] - cf
                    row[b] = u * u
            for f in range(1, d):
                xf = Xt + f * n + start
                for t in range(n_trials):
                    cf = points[t * d + f]
                    row = trial + t * SPAN
                    for b in range(size):
                        u = xf[b] - cf
                        row[b] += u * u
            cl = closest + start
            for t in range(n_trials):
                row = trial + t * SPAN
                for b in range(size):
                    row[b] = cl[b] if cl[b] < row[b] else row[b]
                pots[t] += _sum(row, size)
            start += size
        best_t = 0  # the first of equal candidates, as numpy.argmin
        for t in range(1, n_trials):
            if pots[t] < pots[best_t]:
                best_t = t
        for f in range(d):
            centres[c * d + f] = points[best_t * d + f]
        # The kept candidate's distances again (cheaper than storing every
        # candidate's), and the span sums for the next draw.
        for b in range(n_spans):
            start = b * SPAN
            size = min(<Py_ssize_t>SPAN, n - start)
            xf = Xt + start
            cf = points[best_t * d]
            for i in range(size):
                u = xf[i] - cf
                trial[i] = u * u
            for f in range(1, d):
                xf = Xt + f * n + start
                cf = points[best_t * d + f]
                for i in range(size):
                    u = xf[i] - cf
                    trial[i] += u * u
            cl = closest + start
            for i in range(size):
                cl[i] = cl[i] if cl[i] < trial[i] else trial[i]
            spans[b] = _sum(cl, size)


# Relative safety margin of the bounds (the absolute one, ``slack``, is set per
# feature count in :func:`kmeans`; see _assign): a row is skipped only when
# its centre wins by more than rounding could hide, so that every label is
# the one the full computation gives.
cdef double _MARGIN = 1e-9


cdef void _full_block(
    const double* Xt, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k, Py_ssize_t start,
    Py_ssize_t size, const double* centres, const double* cn, double* D,
    double* best, double* low, double* low2,
) noexcept nogil:
    """Nearest centre of rows ``start:start + size`` (``best``) and the two
    lowest values of ``|c|^2 - 2 x.c`` (``low``, ``low2``).

    The distance is ``|c|^2 - 2 x.c`` (``|x|^2`` does not change the
    argmin), as in scikit-learn's Lloyd iteration.
    """
    cdef Py_ssize_t b, j, f
    cdef double c, v, lo, lo2, bb, jd
    cdef const double* xf
    cdef double* Dj
    for j in range(k):
        Dj = D + j * BLOCK
        for b in range(size):
            Dj[b] = cn[j]
        for f in range(d):
            c = -2.0 * centres[j * d + f]
            xf = Xt + f * n + start
            for b in range(size):
                Dj[b] += c * xf[b]
    # The indices are kept as doubles and chosen without branches (which the
    # data would make unpredictable), so that the compiler can use vector
    # selects for the whole block.
    for b in range(size):
        best[b] = 0.0
        low[b] = D[b]
        low2[b] = INFINITY
    for j in range(1, k):
        Dj = D + j * BLOCK
        jd = <double>j
        for b in range(size):
            v = Dj[b]
            lo = low[b]
            lo2 = low2[b]
            bb = best[b]
            low2[b] = lo if v < lo else (v if v < lo2 else lo2)
            low[b] = v if v < lo else lo
            best[b] = jd if v < lo else bb


cdef Py_ssize_t _assign(
    const double* Xt, const double* Xr, const double* xx, const double* xnorm,
    Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
    const double* centres, const double* shift, double* cn, double* half,
    double* D, double* best, double* low, double* low2,
    int* labels, double* upper, double* lower, double* sums, double* counts,
    int* todo, double* gathered, double slack, bint full,
) noexcept nogil:
    """One E-step, keeping ``sums`` and ``counts`` of each cluster up to date
    for the M-step; returns how many labels changed.

    ``full`` computes every row's distances (the first iteration). Otherwise
    rows whose nearest centre cannot have changed are skipped (Hamerly,
    2010): each row keeps an upper bound ``upper`` on the distance to its
    centre and a lower bound ``lower`` on the distance to every other one;
    after the centres moved by ``shift`` the bounds widen by those moves. A
    row whose upper bound is below the larger of its lower bound and half
    the distance from its centre to the nearest other centre keeps its label.

    The bounds come from the same ``|c|^2 - 2 x.c`` values as the labels,
    plus ``|x|^2`` (``xx``). Rounding makes those squared distances wrong by
    at most about ``(2 d + 4) eps (|x| + |c|)^2``, so the distances by at
    most ``sqrt((2 d + 4) eps) (|x| + |c|)``; ``slack`` is twice that
    factor. A row is skipped only when its centre wins by more than
    ``slack (|x| + max |c|)``, so that every label is the one the full
    computation gives.
    """
    cdef Py_ssize_t i, j, f, start, size, b, t, m, kept, label, changed = 0, far = 0
    cdef double s, x, u, lo, lo2, bound, cmax = 0.0
    cdef double far_shift = 0.0, far_shift2 = 0.0
    for j in range(k):
        s = 0.0
        for f in range(d):
            x = centres[j * d + f]
            s = s + x * x
        cn[j] = s
        if s > cmax:
            cmax = s
    cmax = sqrt(cmax)
    if full:
        start = 0
        while start < n:
            size = min(<Py_ssize_t>BLOCK, n - start)
            _full_block(Xt, n, d, k, start, size, centres, cn, D, best, low, low2)
            for b in range(size):
                i = start + b
                x = low[b] + xx[i]
                upper[i] = sqrt(x) if x > 0.0 else 0.0
                x = low2[b] + xx[i]
                lower[i] = sqrt(x) if x > 0.0 else 0.0
            for b in range(size):
                i = start + b
                label = <Py_ssize_t>best[b]
                if labels[i] != label:
                    if labels[i] >= 0:
                        counts[labels[i]] -= 1.0
                        for f in range(d):
                            sums[labels[i] * d + f] -= Xr[i * d + f]
                    counts[label] += 1.0
                    for f in range(d):
                        sums[label * d + f] += Xr[i * d + f]
                    labels[i] = <int>label
                    changed += 1
            start += size
        return changed
    # Half the distance from each centre to the nearest other one.
    for j in range(k):
        s = INFINITY
        for b in range(k):
            if b != j:
                x = 0.0
                for f in range(d):
                    bound = centres[j * d + f] - centres[b * d + f]
                    x = x + bound * bound
                if x < s:
                    s = x
        half[j] = 0.5 * sqrt(s)
    for j in range(k):
        if shift[j] > far_shift:
            far_shift2 = far_shift
            far_shift = shift[j]
            far = j
        elif shift[j] > far_shift2:
            far_shift2 = shift[j]
    # Three passes without unpredictable branches: widen every row's bounds
    # and list the rows that fail the test; tighten those rows' upper bounds
    # and keep the ones that still fail; compute those rows in full. The
    # lists are written in place (a pass keeps at most the rows it reads).
    m = 0
    for i in range(n):
        label = labels[i]
        u = upper[i] + shift[label]
        lo = lower[i] - (far_shift2 if label == far else far_shift)
        upper[i] = u
        lower[i] = lo
        bound = half[label] if half[label] > lo else lo
        bound = bound * (1.0 - _MARGIN) - slack * (xnorm[i] + cmax)
        todo[m] = <int>i
        m += u * (1.0 + _MARGIN) >= bound
    kept = 0
    for t in range(m):
        i = todo[t]
        label = labels[i]
        u = _distance(Xr + i * d, centres + label * d, d)
        upper[i] = u
        lo = lower[i]
        bound = half[label] if half[label] > lo else lo
        bound = bound * (1.0 - _MARGIN) - slack * (xnorm[i] + cmax)
        todo[kept] = <int>i
        kept += u * (1.0 + _MARGIN) >= bound
    # The remaining rows in full, gathered feature-major BLOCK at a time so
    # that the distances vectorise as in the first iteration.
    start = 0
    while start < kept:
        size = min(<Py_ssize_t>BLOCK, kept - start)
        for f in range(d):
            for b in range(size):
                gathered[f * BLOCK + b] = Xr[todo[start + b] * d + f]
        _full_block(gathered, BLOCK, d, k, 0, size, centres, cn, D, best, low, low2)
        for b in range(size):
            i = todo[start + b]
            x = low[b] + xx[i]
            upper[i] = sqrt(x) if x > 0.0 else 0.0
            x = low2[b] + xx[i]
            lower[i] = sqrt(x) if x > 0.0 else 0.0
            label = labels[i]
            j = <Py_ssize_t>best[b]
            if j != label:
                counts[label] -= 1.0
                counts[j] += 1.0
                for f in range(d):
                    x = Xr[i * d + f]
                    sums[label * d + f] -= x
                    sums[j * d + f] += x
                labels[i] = <int>j
                changed += 1
        start += size
    return changed


cdef void _recount(
    const double* Xr, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
    const int* labels, double* sums, double* counts,
) noexcept nogil:
    """Per-cluster sums and counts from scratch."""
    cdef Py_ssize_t i, j, f
    for j in range(k * d):
        sums[j] = 0.0
    for j in range(k):
        counts[j] = 0.0
    for i in range(n):
        counts[labels[i]] += 1.0
    for i in range(n):
        for f in range(d):
            sums[labels[i] * d + f] += Xr[i * d + f]


cdef void _relocate_empty(
    const double* Xr, Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
    const double* centres, const int* labels, double* sums, double* counts,
    double* far, int* empty,
) noexcept nogil:
    """Move each empty cluster to one of the rows farthest from their own
    centre, taking that row out of its cluster's sums for this M-step only
    (scikit-learn's ``_relocate_empty_clusters_dense``; farthest first).
    Nothing moves when every row sits on its centre (more clusters than
    distinct rows), as in scikit-learn."""
    cdef Py_ssize_t i, j, f, old, pick, n_empty = 0
    cdef double best, s, t, top = 0.0
    for j in range(k):  # the empty clusters before any row moves
        if counts[j] == 0.0:
            empty[n_empty] = <int>j
            n_empty += 1
    for i in range(n):
        s = 0.0
        for f in range(d):
            t = Xr[i * d + f] - centres[labels[i] * d + f]
            s = s + t * t
        far[i] = s
        if s > top:
            top = s
    if top == 0.0:
        return
    for j in range(n_empty):
        pick = 0
        best = -1.0
        for i in range(n):
            if far[i] > best:
                best = far[i]
                pick = i
        far[pick] = -2.0  # never picked twice
        old = labels[pick]
        for f in range(d):
            sums[old * d + f] -= Xr[pick * d + f]
            sums[empty[j] * d + f] = Xr[pick * d + f]
        counts[old] -= 1.0
        counts[empty[j]] = 1.0


cdef double _lloyd(
    const double* Xt, const double* Xr, const double* xx, const double* xnorm,
    Py_ssize_t n, Py_ssize_t d, Py_ssize_t k,
    Py_ssize_t max_iter, double tol, double* centres, double* sums,
    double* counts, double* shift, double* cn, double* half, double* D,
    double* best, double* low, double* low2,
    int* labels, double* upper, double* lower, double* far, double* point,
    int* todo, double* gathered, int* empty, double slack, Py_ssize_t* n_iter,
) noexcept nogil:
    """Lloyd's iterations from ``centres`` (scikit-learn's
    ``_kmeans_single_lloyd``): stop when no label changes, or when the
    summed squared shift of the centres is at most ``tol``. Leaves the final
    centres in ``centres`` and labels in ``labels``; returns the inertia."""
    cdef Py_ssize_t i, j, f, it = 0, changed, largest
    cdef double total_shift, t, s, inertia
    cdef bint strict = False, relocated
    for i in range(n):
        labels[i] = -1
    for j in range(k * d):
        sums[j] = 0.0
    for j in range(k):
        counts[j] = 0.0
    while it < max_iter:
        changed = _assign(
            Xt, Xr, xx, xnorm, n, d, k, centres, shift, cn, half, D, best, low,
            low2, labels, upper, lower, sums, counts, todo, gathered, slack, it == 0,
        )
        relocated = False
        for j in range(k):
            if counts[j] == 0.0:
                _relocate_empty(Xr, n, d, k, centres, labels, sums, counts, far, empty)
                relocated = True
                break
        # The M-step, in scikit-learn's order (``_average_centers``): a
        # cluster still empty goes to the largest cluster's centre as it
        # stands at that point of the loop (already averaged or not).
        largest = 0
        for j in range(1, k):
            if counts[j] > counts[largest]:
                largest = j
        total_shift = 0.0
        for j in range(k):
            s = 0.0
            for f in range(d):
                if counts[j] > 0.0:
                    point[f] = sums[j * d + f] / counts[j]
                elif largest < j:
                    point[f] = centres[largest * d + f]
                else:
                    point[f] = sums[largest * d + f]
                s = s + (point[f] - centres[j * d + f]) ** 2
            for f in range(d):
                centres[j * d + f] = point[f]
            shift[j] = sqrt(s)
            total_shift += s
        if relocated:
            # The moved rows keep their labels: the sums follow the labels.
            _recount(Xr, n, d, k, labels, sums, counts)
        it += 1
        strict = changed == 0
        if strict or total_shift <= tol:
            break
    if not strict:
        # Labels that match the final centres.
        _assign(
            Xt, Xr, xx, xnorm, n, d, k, centres, shift, cn, half, D, best, low,
            low2, labels, upper, lower, sums, counts, todo, gathered, slack, it == 0,
        )
    n_iter[0] = it
    inertia = 0.0
    for i in range(n):
        s = 0.0
        for f in range(d):
            t = Xr[i * d + f] - centres[labels[i] * d + f]
            s = s + t * t
        inertia += s
    return inertia


cdef bint _same_clustering(const int* a, const int* b, Py_ssize_t n, Py_ssize_t k, int* mapping) noexcept nogil:
    """Whether two labelings are equal up to a permutation of the labels."""
    cdef Py_ssize_t i
    for i in range(k):
        mapping[i] = -1
    for i in range(n):
        if mapping[a[i]] == -1:
            mapping[a[i]] = b[i]
        elif mapping[a[i]] != b[i]:
            return False
    return True


def kmeans(
    const double[:, ::1] X,
    Py_ssize_t n_clusters,
    const Py_ssize_t[::1] first,
    const double[:, ::1] uniforms,
    Py_ssize_t n_trials,
    Py_ssize_t max_iter,
    double tol,
):
    """Best of ``len(first)`` k-means runs, each seeded by greedy k-means++.

    Parameters
    ----------
    X : ndarray of float64, shape (n_samples, n_features), C order
    n_clusters : int
    first : ndarray of intp, shape (n_init,)
        Row of each run's first centre.
    uniforms : ndarray of float64, shape (n_init, (n_clusters - 1) * n_trials)
        Each run's numbers in [0, 1) for drawing the other centres.
    n_trials : int
        Candidates per centre (scikit-learn: ``2 + int(log(n_clusters))``).
    max_iter : int
    tol : float
        Relative tolerance: the runs stop when the summed squared shift of
        the centres is at most ``tol`` times the mean variance of the
        features.

    Returns
    -------
    labels : ndarray of int32, shape (n_samples,)
    centres : ndarray of float64, shape (n_clusters, n_features)
    inertia : float
    n_iter : int

    The best run has the lowest inertia; a later run replaces an earlier one
    only if it is lower and is not the same partition, as in scikit-learn.
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], k = n_clusters
    cdef Py_ssize_t n_init = first.shape[0], run, it = 0, best_iter = 0
    cdef Py_ssize_t i, j, f
    if n < 1 or d < 1 or k < 1 or k > n:
        raise ValueError(f"need 1 <= n_clusters <= n_samples, got {k} and {n}")
    if n >= 2**31 - 1:
        raise ValueError(f"at most 2**31 - 2 samples (labels are C ints), got {n}")
    if n_init < 1 or uniforms.shape[0] != n_init:
        raise ValueError("`first` and `uniforms` must give one row per run")
    if n_trials < 1 or uniforms.shape[1] < (k - 1) * n_trials:
        raise ValueError("`uniforms` has too few numbers per run")
    for run in range(n_init):
        if not 0 <= first[run] < n:
            raise ValueError(f"first centre {first[run]} out of range")

    cdef double[:, ::1] Xt = np.empty((d, n))
    cdef double[:, ::1] Xr = np.empty((n, d))
    cdef double[::1] xx = np.zeros(n)
    cdef double[::1] xnorm = np.empty(n)
    cdef double[::1] mean = np.zeros(d)
    cdef double[::1] closest = np.empty(n)
    cdef double[::1] spans = np.empty((n + SPAN - 1) // SPAN)
    cdef double[::1] trial = np.empty(n_trials * SPAN)
    cdef double[::1] upper = np.empty(n)
    cdef double[::1] lower = np.empty(n)
    cdef double[:, ::1] centres = np.empty((k, d))
    cdef double[:, ::1] sums = np.empty((k, d))
    cdef double[::1] counts = np.empty(k)
    cdef double[::1] shift = np.zeros(k)
    cdef double[::1] cn = np.empty(k)
    cdef double[::1] half = np.empty(k)
    cdef double[::1] D = np.empty(k * BLOCK)
    cdef double[::1] best = np.empty(BLOCK)
    cdef double[::1] low = np.empty(BLOCK)
    cdef double[::1] low2 = np.empty(BLOCK)
    cdef double[::1] point = np.empty(d)
    cdef double[::1] points = np.empty(n_trials * d)
    cdef double[::1] pots = np.empty(n_trials)
    cdef int[::1] labels = np.empty(n, dtype=np.intc)
    cdef int[::1] todo = np.empty(n, dtype=np.intc)
    cdef double[::1] gathered = np.empty(d * BLOCK)
    cdef int[::1] mapping = np.empty(k, dtype=np.intc)
    cdef int[::1] empty = np.empty(k, dtype=np.intc)
    best_labels_arr = np.empty(n, dtype=np.intc)
    best_centres_arr = np.empty((k, d))
    cdef int[::1] best_labels = best_labels_arr
    cdef double[:, ::1] best_centres = best_centres_arr
    cdef double inertia, best_inertia = INFINITY, t
    cdef double slack = 2.0 * sqrt((2.0 * d + 4.0) * DBL_EPSILON)

    with nogil:
        # Centred, feature-major copy (scikit-learn also centres: it makes
        # |c|^2 - 2 x.c accurate); tol is relative to the mean variance.
        for i in range(n):
            for f in range(d):
                mean[f] += X[i, f]
        for f in range(d):
            mean[f] /= n
            for i in range(n):
                Xt[f, i] = X[i, f] - mean[f]
                Xr[i, f] = Xt[f, i]
            for i in range(n):
                xx[i] += Xt[f, i] * Xt[f, i]
        for i in range(n):
            xnorm[i] = sqrt(xx[i])
        # The mean variance of the centred features is the mean of |x|^2 / d.
        tol = tol * _sum(&xx[0], n) / n / d
        for run in range(n_init):
            _plusplus(
                &Xt[0, 0], n, d, k, first[run], &uniforms[run, 0], n_trials,
                &centres[0, 0], &closest[0], &spans[0], &trial[0], &points[0],
                &pots[0],
            )
            inertia = _lloyd(
                &Xt[0, 0], &Xr[0, 0], &xx[0], &xnorm[0], n, d, k, max_iter, tol,
                &centres[0, 0], &sums[0, 0], &counts[0], &shift[0], &cn[0],
                &half[0], &D[0], &best[0], &low[0], &low2[0], &labels[0],
                &upper[0], &lower[0], &closest[0], &point[0], &todo[0],
                &gathered[0], &empty[0], slack, &it,
            )
            if run == 0 or (
                inertia < best_inertia
                and not _same_clustering(&labels[0], &best_labels[0], n, k, &mapping[0])
            ):
                best_inertia = inertia
                best_iter = it
                for i in range(n):
                    best_labels[i] = labels[i]
                for j in range(k):
                    for f in range(d):
                        best_centres[j, f] = centres[j, f] + mean[f]
    return best_labels_arr, best_centres_arr, float(best_inertia), int(best_iter)
