"""What every network resource collection shares: lookup, visibility, listing, deletion.

Policy is the handlers' (``nubis.network.api.access``); ``target`` gives them what to check it against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import paging
from nubis.network.core import common, errors, query
from nubis.network.core.common import Caller, NetworkCoreHandle
from nubis.network.db import models

# Filters whose SQL equality is exactly the views' (ids compare the same on every backend; a name may not:
# MariaDB compares text case-insensitively).
_SQL_EXACT_FILTERS = frozenset({"id", "project_id", "tenant_id"})


class _UnknownMarker(Exception):
    def __init__(self, marker: Any) -> None:
        super().__init__(marker)


def _pages_in_sql(params: query.ListParams) -> bool:
    """Whether the database can cut this page exactly as ``query.apply`` would: a ``limit``, ordered by id
    alone (the default order), filtered only on ids, no tag filters. Anything else is sorted and filtered
    on the views (their values, e.g. addresses sorted as addresses, are not all columns)."""
    return (params.limit is not None and len(params.sort) <= 1 and all(k == "id" for k, _ in params.sort)
            and set(params.filters) <= _SQL_EXACT_FILTERS
            and not (params.tags_all or params.tags_any or params.not_tags_all or params.not_tags_any))


class Resources:
    """One collection (``networks``, ``ports``, ...). Subclasses add create/update and their view."""

    model: ClassVar[Any]
    kind: ClassVar[str]  # "Network": error type names and messages
    member: ClassVar[str]  # "network": body key and policy names
    collection: ClassVar[str]  # "networks"
    # Columns whose equality filters go to SQL; the rest are applied to the views.
    sql_filters: ClassVar[Sequence[str]] = ("id", "name", "project_id")
    # API filter names that are columns under another name (``binding:host_id``): pushed into SQL too.
    sql_aliases: ClassVar[Mapping[str, str]] = {}
    sortable: ClassVar[Sequence[str]] = ("id", "name", "project_id", "tenant_id", "created_at", "updated_at",
                                         "revision_number", "description")
    # Neutron answers a caller its get_<member> policy refuses with an empty list and 404s, not 403.
    hidden_unless_readable: ClassVar[bool] = False

    def __init__(self, core: NetworkCoreHandle) -> None:
        self.core = core

    # -- visibility -----------------------------------------------------------------------------
    def visible(self, caller: Caller) -> Any:
        """A SQL condition selecting what ``caller`` may see; None for everything."""
        if caller.is_admin:
            return None
        return self.model.project_id == caller.project_id

    def _select(self, caller: Caller) -> Any:
        q = sa.select(self.model)
        cond = self.visible(caller)
        return q if cond is None else q.where(cond)

    def row(self, s: orm.Session, caller: Caller, ident: str) -> Any:
        if not isinstance(ident, str):  # an id from a request body: 42 or {} is no id (and no SQL parameter)
            raise errors.invalid(f"'{ident}' is not a valid {self.member} id.")
        found = s.scalar(self._select(caller).where(self.model.id == ident))
        if found is None:
            raise errors.not_found(self.kind, ident)
        return found

    def owned_row(self, s: orm.Session, caller: Caller, ident: str) -> Any:
        """The row, if ``caller`` may change it (seeing a shared resource is not enough)."""
        found = self.row(s, caller, ident)
        if not caller.owns(found.project_id):
            raise errors.not_authorized(f"update or delete {self.member} {ident} of another project")
        return found

    # -- reading --------------------------------------------------------------------------------
    def views(self, s: orm.Session, caller: Caller, rows: Sequence[Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def target(self, caller: Caller, ident: str) -> dict[str, Any]:
        """What the handlers authorize a change of ``ident`` against: ``{"project_id": <its project>}``.

        :raises NotFound: ``caller`` cannot see ``ident``.
        :raises BadRequest: ``ident`` is not an id.
        """
        with self.core.db.reader() as s:
            return {"project_id": self.row(s, caller, ident).project_id}

    def get(self, caller: Caller, ident: str) -> dict[str, Any]:
        with self.core.db.reader() as s:
            return self.views(s, caller, [self.row(s, caller, ident)])[0]

    def list(self, caller: Caller, params: query.ListParams) -> query.Page:
        q = self._select(caller)
        for name, values in params.equality(self.sql_filters).items():
            column = getattr(self.model, name)
            q = q.where(column.in_(values))
        for name, values in params.equality(self.sql_aliases).items():
            q = q.where(getattr(self.model, self.sql_aliases[name]).in_(values))
        if "tenant_id" in params.filters:
            q = q.where(self.model.project_id.in_(params.filters["tenant_id"]))
        if _pages_in_sql(params):
            return self._sql_page(caller, q, params)
        with self.core.db.reader() as s:
            items = self.views(s, caller, s.scalars(q).all())
        return query.apply(items, params, self.sortable)

    def _sql_page(self, caller: Caller, q: Any, params: query.ListParams) -> query.Page:
        """One page cut by the database (``_pages_in_sql``): the items ``query.apply`` would give."""
        assert params.limit is not None
        ascending = params.sort[0][1] if params.sort else True
        by_id = paging.SortKey(self.model.id, descending=ascending == params.page_reverse)
        try:
            with self.core.db.reader() as s:
                page = paging.paginate(s, q, [], by_id, params.limit, params.limit, params.marker or None,
                                       _UnknownMarker)
                items = self.views(s, caller, page.rows)
        except _UnknownMarker:
            return query.Page([])  # as the in-Python paging: a marker the listing lacks gives an empty page
        if params.page_reverse:
            items.reverse()
        return query.Page(items)

    # -- creating -------------------------------------------------------------------------------
    def check_body(self, body: Any) -> None:
        """The checks of a create or update body that need no lookup, run before policy (400 before 403, as
        Neutron validates attributes first). Most collections check everything in ``create``/``update``."""

    def create_attrs(self, caller: Caller, body: Any, allowed: Sequence[str]) -> tuple[dict[str, Any], str]:
        """The ``{<member>: {...}}`` body's attributes (400 naming any not in ``allowed``) and the project
        that will own the new resource (whether the caller may create it there the handler decided)."""
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, allowed, self.member)
        return attrs, common.owner_for_create(caller, attrs)

    def add_new(self, s: orm.Session, caller: Caller, row: Any) -> dict[str, Any]:
        """Add the new ``row`` to ``s`` and flush it; its view as ``caller`` sees it."""
        s.add(row)
        s.flush()
        return self.views(s, caller, [row])[0]

    def store_new(self, caller: Caller, row: Any) -> dict[str, Any]:
        """Store the new ``row`` in its own transaction, then announce ``<member>.create``; its view."""
        with self.core.db.writer() as s:
            view = self.add_new(s, caller, row)
        self.core.notify(f"{self.member}.create", view)
        return view

    # -- deleting -------------------------------------------------------------------------------
    def delete(self, caller: Caller, ident: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as s:
            found = self.row(s, caller, ident)
            # In the delete's own transaction: nobody can change the resource between check and delete.
            common.check_revision(found, if_match, self.member)
            self.before_delete(s, caller, found)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == found.id))
            s.delete(found)
            s.flush()
            self.after_delete(s, found)
        self.core.notify(f"{self.member}.delete", {"id": ident})

    def before_delete(self, s: orm.Session, caller: Caller, found: Any) -> None:
        """Refuse (409) or clean up what depends on ``found``; run in the delete's transaction."""

    def after_delete(self, s: orm.Session, found: Any) -> None:
        """Clean up what ``found`` pointed at, once its row is gone (same transaction)."""
