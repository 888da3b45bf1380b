"""Every benchmark's --help exits 0 and names its main option."""

import pytest

from .conftest import load_benchmark


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("cpu_bounds", "--scale"),
        ("dedup_quality", "--corpus"),
        ("dedup_scale", "--stores"),
        ("network_backend", "--corpus"),
        ("quote_check", "--docs"),
        ("publish_cost", "--pages"),
        ("report_scale", "--docs"),
        ("signature_speed", "--corpus"),
        ("startup", "--repeat"),
        ("store_cpu", "--batch"),
        ("throughput", "--pages"),
    ],
)
def test_help(name: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark(name)
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
    assert option in capsys.readouterr().out
