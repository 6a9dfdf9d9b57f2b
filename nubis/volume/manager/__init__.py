"""The per-storage-host volume manager: carries out creates, extends, snapshots and deletes on its backend."""
