"""What a volume's connection_info carries of its type's QoS specs (Cinder's data.qos_specs)."""

from __future__ import annotations

from nubis.volume.core.qos import connection_specs


def test_only_front_end_and_both_consumers_reach_the_compute() -> None:
    specs = {"read_iops_sec": "100"}
    assert connection_specs("front-end", specs, 10) == specs
    assert connection_specs("both", specs, 10) == specs
    assert connection_specs("back-end", specs, 10) is None


def test_per_gib_iops_scale_with_the_volume_size_and_keep_their_minimum() -> None:
    specs = {"read_iops_sec_per_gb": "20", "write_iops_sec_per_gb": "1", "write_iops_sec_per_gb_min": "50",
             "total_iops_sec_per_gb": "many", "total_bytes_sec": "1000"}
    assert connection_specs("front-end", specs, 10) == {"read_iops_sec": "200", "write_iops_sec": "50",
                                                        "total_bytes_sec": "1000"}
    assert connection_specs("front-end", specs, 100)["write_iops_sec"] == "100"  # type: ignore[index]
    assert specs["read_iops_sec_per_gb"] == "20"  # the stored specs are left as they are
