"""Deterministic 64-bit hashing primitives shared by shingles, bands and passages.

Python's built-in ``hash()`` is salted per process (PYTHONHASHSEED), so nothing
here uses it: every value computed by this module is the same on every run and
machine, which is what lets hashes be stored in DuckDB and joined the next night.

Two families are provided:

* **Token and sequence hashes** (vectorized with numpy). A token's code points
  are combined by a polynomial hash modulo 2**64 and its length is added, then
  the MurmurHash3 64-bit finalizer (``fmix64``) scrambles the result so that
  every output bit depends on every input bit. Sequences of token hashes (a
  shingle, a MinHash band) are combined the same way: Horner's rule from a
  non-zero seed, then ``fmix64``. Polynomial hashing is what makes the
  vectorized form possible (prefix sums over the code-point array); it is not
  collision-resistant against an adversary, which does not matter here
  because a collision can only merge two shingles, and a pair is only
  reported after exact verification on the whole shingle set.
* **Text hashes** (``text_hash``): BLAKE2b with an 8-byte digest, returned as
  a *signed* 64-bit integer so that it fits DuckDB's ``BIGINT``.

Every function here has a pure-Python reference twin or is itself pure
Python; the tests check that the vectorized and reference forms agree.
"""

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

U64Array = npt.NDArray[np.uint64]

MASK64 = (1 << 64) - 1

# Odd multipliers (so they are invertible modulo 2**64, which the prefix-sum
# trick in `span_hashes` needs). Taken from well-known hash constants.
TOKEN_BASE = 0x100000001B3  # FNV-1a 64-bit prime
TOKEN_BASE_INV = pow(TOKEN_BASE, -1, 1 << 64)
LENGTH_MIX = 0x9E3779B97F4A7C15  # 2**64 / golden ratio (Knuth)
SEQUENCE_BASE = 0xD6E8FEB86659FD93  # odd 64-bit multiplier from xxh3/wyhash lineage
SEQUENCE_SEED = 0x2545F4914F6CDD1D  # non-zero start so that sequence length matters

_FMIX_SHIFT = np.uint64(33)
_FMIX_M1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_M2 = np.uint64(0xC4CEB9FE1A85EC53)


def fmix64(values: U64Array) -> U64Array:
    """Apply the MurmurHash3 64-bit finalizer element-wise (wrapping uint64 arithmetic)."""
    # The finalizer is a bijection with full avalanche: it turns the weak,
    # linear polynomial hash into well-spread bits without adding collisions.
    h = values ^ (values >> _FMIX_SHIFT)
    h = h * _FMIX_M1
    h ^= h >> _FMIX_SHIFT
    h = h * _FMIX_M2
    h ^= h >> _FMIX_SHIFT
    return h


def fmix64_int(value: int) -> int:
    """Pure-Python MurmurHash3 64-bit finalizer of one value (reference for `fmix64`)."""
    h = value & MASK64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    h ^= h >> 33
    return h


def token_hash(token: str) -> int:
    """Hash one token to 64 bits (pure-Python reference for `span_hashes`)."""
    poly = 0
    for ch in token:
        poly = (poly * TOKEN_BASE + ord(ch)) & MASK64
    return fmix64_int(poly + len(token) * LENGTH_MIX)


_powers_cache: tuple[U64Array, U64Array] = (
    np.ones(1, dtype=np.uint64),
    np.ones(1, dtype=np.uint64),
)


def _powers(n: int) -> tuple[U64Array, U64Array]:
    """Return (TOKEN_BASE**i, TOKEN_BASE_INV**i) for i < n, modulo 2**64, from a growing cache."""
    global _powers_cache
    powers, inv_powers = _powers_cache
    if powers.size < n:
        size = max(n, 2 * powers.size, 4096)
        powers = np.full(size, TOKEN_BASE, dtype=np.uint64)
        powers[0] = 1
        np.multiply.accumulate(powers, out=powers)
        inv_powers = np.full(size, TOKEN_BASE_INV, dtype=np.uint64)
        inv_powers[0] = 1
        np.multiply.accumulate(inv_powers, out=inv_powers)
        powers.setflags(write=False)
        inv_powers.setflags(write=False)
        # One assignment, so a concurrent reader sees the old or the new pair.
        _powers_cache = (powers, inv_powers)
    return powers[:n], inv_powers[:n]


def span_hashes(
    code_points: npt.NDArray[np.uint32],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
) -> U64Array:
    """Hash every token code_points[start:end] to uint64 (= `token_hash` of its string)."""
    if starts.size == 0:
        return np.empty(0, dtype=np.uint64)
    n = code_points.size
    powers, inv_powers = _powers(n)
    # sum_{j in [s, e)} c_j * B**(e-1-j) = B**(e-1) * (S[e] - S[s]) where S
    # is the prefix sum of c_j * B**(-j); all modulo 2**64 (numpy wraps).
    # In place where possible: these run over every character of a batch.
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(code_points, inv_powers, out=prefix[1:])
    np.cumsum(prefix[1:], out=prefix[1:])
    poly = prefix[ends]
    poly -= prefix[starts]
    poly *= powers[ends - 1]
    lengths = (ends - starts).astype(np.uint64)
    lengths *= np.uint64(LENGTH_MIX)
    poly += lengths
    return fmix64(poly)


def sequence_hash(values: Iterable[int], seed: int = SEQUENCE_SEED) -> int:
    """Hash a sequence of 64-bit values to 64 bits (pure-Python reference for `window_hashes`)."""
    acc = seed & MASK64
    for v in values:
        acc = (acc * SEQUENCE_BASE + v) & MASK64
    return fmix64_int(acc)


def window_hashes(values: U64Array, width: int, seed: int = SEQUENCE_SEED) -> U64Array:
    """Hash every run of `width` consecutive values (a sliding window), vectorized."""
    count = values.size - width + 1
    if width < 1 or count < 1:
        return np.empty(0, dtype=np.uint64)
    acc = np.full(count, seed & MASK64, dtype=np.uint64)
    base = np.uint64(SEQUENCE_BASE)
    for offset in range(width):
        acc *= base
        acc += values[offset : offset + count]
    return fmix64(acc)


def text_hash(text: str) -> int:
    """BLAKE2b-64 of a string's UTF-8 bytes as a signed int64 (fits DuckDB BIGINT)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)
