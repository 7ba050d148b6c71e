"""Small helpers below everything else: progress bars and provenance.

Nothing here imports another clusterspy module but :mod:`clusterspy._version`,
so that the engines, the pipeline and the estimation of k can all use them.
"""
