"""Response bodies of the compute API, per resource and microversion (the core returns plain records)."""
