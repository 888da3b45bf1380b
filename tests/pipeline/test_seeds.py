"""Hostile seed files: each is read or skipped with a recorded reason, never a crash."""

import asyncio
import codecs
import os
from pathlib import Path

import pytest

from flows.ingest import ingest
from pipeline.seeds import SeedLimits, discover, read_seed
from tests.flows.test_ingest import params, query
from tests.site import Site

LIMITS = SeedLimits(max_bytes=1 << 20, max_urls=1000)


def read(path: Path, limits: SeedLimits = LIMITS):  # type: ignore[no-untyped-def]
    return read_seed(path.absolute(), limits)


def test_binary_file_is_skipped(tmp_path: Path) -> None:
    f = tmp_path / "photo.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    seed = read(f)
    assert seed.row.status == "skipped" and seed.row.reason is not None
    assert seed.row.reason.startswith("binary") and seed.row.sha256


def test_invalid_utf8_is_decoded_with_detection(tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Café crème à Genève: https://x.org/a\n".encode("latin-1") * 5)
    seed = read(f)
    # Detection picks a single-byte code page; which one is a guess on so little text.
    assert seed.row.status == "ok" and seed.text is not None and "Caf" in seed.text
    assert seed.row.encoding not in (None, "utf-8")
    assert [c.url for c in seed.citations] == ["https://x.org/a"]


def test_utf16_with_bom(tmp_path: Path) -> None:
    f = tmp_path / "wide.txt"
    f.write_bytes(codecs.BOM_UTF16_LE + "see https://x.org/wide\n".encode("utf-16-le"))
    seed = read(f)
    assert seed.row.encoding == "utf-16" and [c.url for c in seed.citations] == ["https://x.org/wide"]


def test_huge_file_is_cut_at_the_cap_and_recorded(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    line = b"Filler prose without links, repeated to make a very large seed file.\n"
    with open(f, "wb") as handle:
        for _ in range(200):  # 200 MB
            handle.write(line * (1_000_000 // len(line) + 1))
    assert f.stat().st_size >= 200_000_000
    seed = read(f, SeedLimits(max_bytes=5_000_000, max_urls=10))
    assert seed.row.status == "ok" and seed.row.reason is not None
    assert seed.row.reason.startswith("truncated") and seed.row.bytes == 5_000_000


def test_a_hundred_thousand_urls_are_capped_and_recorded(tmp_path: Path) -> None:
    f = tmp_path / "many.txt"
    f.write_text("\n".join(f"https://site{i % 50}.example/p/{i}" for i in range(100_000)))
    seed = read(f, SeedLimits(max_bytes=50 << 20, max_urls=10_000))
    assert len(seed.citations) == 10_000
    assert seed.row.reason == "url_cap: 90000 URLs over the cap"


def test_urls_with_spaces_idn_and_punctuation(tmp_path: Path) -> None:
    f = tmp_path / "odd.md"
    f.write_text(
        "A [spaced link](<https://x.org/a b>) and https://bücher.de/straße.\n"
        "Wrapped (https://x.org/a). End: https://x.org/b)."
    )
    urls = [c.url for c in read(f).citations]
    assert urls == ["https://x.org/a%20b", "https://bücher.de/stra%C3%9Fe", "https://x.org/a",
                    "https://x.org/b"]


def test_javascript_data_and_relative_links_in_html(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(
        '<a href="javascript:alert(1)">j</a><a href="data:text/html,<b>x</b>">d</a>'
        '<a href="/relative">r</a><a href="https://x.org/ok">ok</a>'
    )
    seed = read(f)
    assert [c.url for c in seed.citations] == ["https://x.org/ok"]
    assert seed.row.rejected_links == 3


def test_relative_links_resolve_against_base(tmp_path: Path) -> None:
    f = tmp_path / "based.html"
    f.write_text('<base href="https://x.org/dir/"><a href="page">p</a>')
    assert [c.url for c in read(f).citations] == ["https://x.org/dir/page"]


def test_symlink_loop_in_the_seeds_folder_ends(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    (root / "a").mkdir(parents=True)
    (root / "a" / "s.txt").write_text("https://x.org/")
    os.symlink(root, root / "a" / "loop")
    os.symlink(root / "missing.txt", root / "dangling.txt")
    found = sorted(str(p.relative_to(root)) for p, _ in discover([str(root)]))
    assert found == ["a/s.txt", "dangling.txt"]
    dangling = read(root / "dangling.txt")
    assert dangling.row.status == "skipped" and (dangling.row.reason or "").startswith("unreadable")


def test_fifo_and_folder_named_like_seeds_do_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    seed = read(fifo)
    assert seed.row.status == "skipped" and (seed.row.reason or "").startswith("not_a_file")


def test_file_that_vanishes_before_reading(tmp_path: Path) -> None:
    f = tmp_path / "gone.txt"
    f.write_text("https://x.org/")
    listed = list(discover([str(tmp_path)]))
    f.unlink()
    seed = read_seed(listed[0][0], LIMITS)
    assert seed.row.status == "skipped" and (seed.row.reason or "").startswith("unreadable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "secret.txt"
    f.write_text("https://x.org/")
    f.chmod(0)
    assert (read(f).row.reason or "").startswith("unreadable")


@pytest.mark.usefixtures("prefect_harness")
def test_run_over_a_folder_of_hostile_seeds(tmp_path: Path, site: Site) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "good.txt").write_text(f"read {site.url('/news/borrell')}\n")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "empty.md").write_text("")
    (folder / "bad.html").write_bytes(b"<a href='javascript:x'>\xff\xfe\x00</a>")
    os.mkfifo(folder / "pipe.txt")
    os.symlink(folder, folder / "loop")
    p = params(tmp_path, [str(folder), str(tmp_path / "missing-folder")])
    summary = asyncio.run(ingest(p))
    rows = dict(query(p.db, "SELECT regexp_extract(path, '[^/]+$'), status FROM seeds"))
    assert rows == {
        "good.txt": "ok", "binary.txt": "skipped", "empty.md": "ok", "bad.html": "skipped",
        "pipe.txt": "skipped", "missing-folder": "skipped",
    }
    reasons = {r for s, r, _ in summary.counts if s == "seeds"}
    assert {"ok", "skipped: binary", "skipped: not_a_file", "skipped: not_found"} <= reasons
    assert query(p.db, "SELECT count(*) FROM documents WHERE kind = 'page'") == [(1,)]
