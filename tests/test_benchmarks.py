"""The benchmark scripts still run (their figures are read by people, never asserted)."""
from benchmarks import sms_flow


def test_the_sms_flow_benchmark_walks_every_step():
    lines = []
    rows = sms_flow.main(runs=2, out=lines.append)
    assert set(rows) == {"credential", "account", "messaging_service", "numbers", "review"}
    assert lines[-1].startswith("worst page p50")
