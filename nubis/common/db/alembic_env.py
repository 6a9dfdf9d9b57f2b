"""The body of every service's Alembic ``env.py``.

Migrations always run on a connection handed in by ``nubis.common.db.migration``
(online mode only): the URL never has to be written into an ini file.
"""

from __future__ import annotations

from alembic import context


def run_migrations() -> None:
    config = context.config
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=config.attributes["target_metadata"],
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
