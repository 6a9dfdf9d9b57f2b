"""The metadata definitions catalog (Glance's metadefs): the core behind ``/v2/metadefs``.

``catalog.MetadefCatalog`` is the one object the handlers call; each of its parts owns its
transactions and never sees HTTP or policy.
"""
