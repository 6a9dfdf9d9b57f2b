"""Monitoring: the Prometheus exporter of cloud state (``nubis-exporter``) and the quota-vs-capacity report.

Everything here reads the cloud through its public APIs with the ``[service_credentials]`` identity (an admin
or a reader of every project), never another service's database.
"""
