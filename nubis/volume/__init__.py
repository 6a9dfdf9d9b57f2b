"""Block storage: a Cinder v3-compatible volume service (API, core, per-host manager, backends)."""
