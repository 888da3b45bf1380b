"""The run's batches: a ramp that starts the extraction pool early, then batch_size."""

from pipeline.batching import chunks


def test_batches_ramp_up_then_stay_at_batch_size_and_cover_every_url_in_order() -> None:
    urls = [f"u{i}" for i in range(1000)]
    batches = list(chunks(urls, 200, 16))
    assert [len(b) for b in batches] == [16, 32, 64, 128, 200, 200, 200, 160]
    assert [u for b in batches for u in b] == urls


def test_a_first_batch_larger_than_batch_size_is_batch_size() -> None:
    assert [len(b) for b in chunks([str(i) for i in range(7)], 2, 16)] == [2, 2, 2, 1]
    assert list(chunks([], 200, 16)) == []


def test_without_a_ramp_every_batch_is_full_but_the_last() -> None:
    assert [len(b) for b in chunks([str(i) for i in range(7)], 3)] == [3, 3, 1]
    assert [len(b) for b in chunks([str(i) for i in range(6)], 3)] == [3, 3]
