"""nubis-metadata: the metadata API guests read through their network's proxy.

It owns no database: instance facts come from the conductor and port facts
from the network service, both over RPC.
"""
