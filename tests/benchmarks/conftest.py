"""Tiny synthetic corpora for the benchmark smoke tests (no real corpus, no timing asserts)."""

import gzip
import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
_VOCABULARY = (
    "security europe russia union talks minister foreign said would nato ukraine treaty "
    "guarantees january moscow brussels washington diplomacy border troops gas deliveries "
    "sanctions escalation proposal agenda coordination participation bloc summit"
)
_WORDS = _VOCABULARY.split()


def load_benchmark(name: str) -> ModuleType:
    """Import benchmarks/<name>.py (the folder is not a package)."""
    module_name = f"benchmark_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, _BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _page(rng: random.Random, index: int) -> bytes:
    paragraphs = "\n".join(
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(25, 60))) + ".</p>"
        for _ in range(6)
    )
    html = (
        f"<html><head><title>Story {index}</title></head><body>"
        f"<article><h1>Story number {index}</h1>{paragraphs}</article>"
        "<footer>Comments are closed.</footer></body></html>"
    )
    return html.encode("utf-8")


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Five gzipped synthetic news pages and one plain HTML page."""
    rng = random.Random(3)
    for i in range(5):
        (tmp_path / f"page{i}.html.gz").write_bytes(gzip.compress(_page(rng, i)))
    (tmp_path / "plain.html").write_bytes(_page(rng, 99))
    return tmp_path
