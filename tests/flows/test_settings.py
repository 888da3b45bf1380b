"""The run's parameters: library configs built from them, ReextractParameters reusing them."""

import pytest
from pydantic import ValidationError

from fetching.config import FetchConfig
from flows.settings import IngestParameters, ReextractParameters
from pipeline.dedup_step import STORED_PAIR_MIN_JACCARD, DedupConfig


def test_default_parameters_build_the_libraries_default_configs() -> None:
    params = IngestParameters()
    assert params.fetch_config() == FetchConfig()
    assert params.dedup_config() == DedupConfig()


def test_configs_take_each_field_by_name() -> None:
    params = IngestParameters(
        concurrency=7, per_host_concurrency=3, per_host_delay=0.5, connect_timeout=3,
        read_timeout=4, total_timeout=9, max_bytes=4096, max_redirects=2, max_attempts=5,
        retry_after_cap=10, respect_robots=False, user_agent="ua", allow_private_addresses=True,
        allowed_ports=[], dedup_threshold=0.9, boilerplate_min_docs=5, dedup_batch=10,
    )
    assert params.fetch_config() == FetchConfig(
        user_agent="ua", concurrency=7, per_host_concurrency=3, per_host_delay=0.5,
        connect_timeout=3, read_timeout=4, total_timeout=9, max_bytes=4096, max_redirects=2,
        max_attempts=5, retry_after_cap=10, respect_robots=False, allow_private_addresses=True,
        allowed_ports=None,  # an empty list allows any port
    )
    assert params.dedup_config() == DedupConfig(0.9, 5, 10)


def test_dedup_threshold_stops_where_pairs_stop_being_stored() -> None:
    IngestParameters(dedup_threshold=STORED_PAIR_MIN_JACCARD)
    with pytest.raises(ValidationError, match="dedup_threshold"):
        IngestParameters(dedup_threshold=STORED_PAIR_MIN_JACCARD - 0.01)
    with pytest.raises(ValidationError, match="dedup_threshold"):
        ReextractParameters(dedup_threshold=STORED_PAIR_MIN_JACCARD - 0.01)


def test_reextract_fields_are_ingests_with_their_own_help() -> None:
    ingest = IngestParameters.model_json_schema()["properties"]
    reextract = ReextractParameters.model_json_schema()["properties"]
    for name in ("extract_workers", "dedup_batch", "db_memory_limit"):
        assert reextract[name] == ingest[name]
    for name in ("db", "batch_size"):
        assert {**reextract[name], "description": ""} == {**ingest[name], "description": ""}
        assert reextract[name]["description"] != ingest[name]["description"]
    for name in ("dedup_threshold", "boilerplate_min_docs"):
        bounds = {k: ingest[name][k] for k in ("minimum", "maximum")}
        assert reextract[name]["default"] is None
        assert {k: reextract[name]["anyOf"][0][k] for k in bounds} == bounds


def test_reextract_dedup_settings_fall_back_to_the_latest_runs_then_the_defaults() -> None:
    default = DedupConfig()
    assert ReextractParameters().dedup_config(None) == default
    assert ReextractParameters().dedup_config((0.7, 4)) == DedupConfig(0.7, 4)
    given = ReextractParameters(dedup_threshold=0.9, dedup_batch=5)
    assert given.dedup_config((0.7, 4)) == DedupConfig(0.9, 4, 5)
