"""Randomness as a tree: one named stream per component/activity, never a global generator.

``SeedTree(seed).rng("demand.checkin")`` always returns the same stream for the same seed and
name, whatever other streams exist or how much they were used. So changing one component's
parameters never reshuffles another component's random numbers, and two scenarios run with the
same seed share common random numbers (low-variance paired comparisons).
"""

from __future__ import annotations

import zlib

import numpy as np


class SeedTree:
    """Named, independent random streams derived from one root seed."""

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.seed = int(seed)

    def sequence(self, name: str) -> np.random.SeedSequence:
        """The ``SeedSequence`` of stream ``name`` (stable across processes and versions)."""
        # crc32 of the name: stable across interpreters (unlike hash()), and spawn_key makes
        # the streams statistically independent children of the root.
        key = tuple(zlib.crc32(part.encode()) for part in name.split("."))
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def rng(self, name: str) -> np.random.Generator:
        """A fresh PCG64 generator for stream ``name``."""
        return np.random.Generator(np.random.PCG64(self.sequence(name)))

    def child_seed(self, name: str) -> int:
        """An integer seed for stream ``name`` (e.g. one replication of an experiment)."""
        return int(self.sequence(name).generate_state(1, np.uint64)[0] >> np.uint64(1))


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Seeds of replications 0..R-1: replication 0 uses ``seed`` itself, the others are
    children of it in the seed tree (so R=1 and the first of R>1 agree)."""
    tree = SeedTree(seed)
    return [seed] + [tree.child_seed(f"replication.{i}") for i in range(1, replications)]
