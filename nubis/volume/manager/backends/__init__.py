"""Where a storage host keeps volume data, behind ``base.VolumeBackend``."""
