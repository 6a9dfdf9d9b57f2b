"""Configuration: zero config files work, and the sample config is current."""

from __future__ import annotations

import os
import subprocess
import sys

from nubis import opts, services
from nubis.cmd import common
from nubis.common import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "etc", "nubis", "nubis.conf.sample")
GENERATOR_CONF = os.path.join(ROOT, "etc", "nubis", "nubis-config-generator.conf")


def test_every_service_starts_from_zero_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf = common.build_conf(services.load_all())
    config.parse_args(conf, [], default_config_files=[])
    # Reading every registered option must work without a file.
    for group, group_opts in opts.list_opts():
        for opt in group_opts:
            if group == "DEFAULT":
                getattr(conf, opt.dest, None)
            elif group in conf:
                getattr(conf[group], opt.dest, None)
    assert config.database_url(conf, "identity").endswith("/identity.sqlite")
    assert conf.transport_url == "inproc://"


def test_database_url_template_and_overrides(conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("connection", "mysql+pymysql://u:p@db/nubis_{service}", group="database")
    conf.set_override("service_connections", {"image": "postgresql://pg/images"}, group="database")
    assert config.database_url(conf, "compute") == "mysql+pymysql://u:p@db/nubis_compute"
    assert config.database_url(conf, "image") == "postgresql://pg/images"


def test_sample_config_is_current(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "nubis.conf.sample"
    generator = os.path.join(os.path.dirname(sys.executable), "oslo-config-generator")
    subprocess.run(
        [generator, "--config-file", GENERATOR_CONF, "--output-file", str(out)],
        check=True, cwd=ROOT, capture_output=True,
    )
    with open(SAMPLE) as committed:
        assert out.read_text() == committed.read(), (
            "etc/nubis/nubis.conf.sample is stale: run 'tox -e genconfig' "
            "(or oslo-config-generator --config-file etc/nubis/nubis-config-generator.conf) and commit it."
        )
