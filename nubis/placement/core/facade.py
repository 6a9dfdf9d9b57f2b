"""What the placement handlers reach: the database and the policy."""

from __future__ import annotations

import dataclasses

from oslo_config import cfg

from nubis.common import policy as nubis_policy
from nubis.common.db.engine import Database


@dataclasses.dataclass
class PlacementCore:
    conf: cfg.ConfigOpts
    db: Database
    policy: nubis_policy.Policy
