"""The Placement route table."""

from __future__ import annotations

import webob

from nubis.api import router
from nubis.placement.api import allocations, classes, providers
from nubis.placement.api.common import MAX_VERSION, MIN_VERSION, rerun_on_deadlock


@router.public
def root(req: router.Request) -> webob.Response:
    return router.json_response({"versions": [{
        "id": "v1.0", "min_version": MIN_VERSION, "max_version": MAX_VERSION, "status": "CURRENT",
        "links": [{"rel": "self", "href": ""}]}]})


RP = "/resource_providers/{uuid}"
_ROUTES: router.RouteTable = {
    "/": {"GET": root},
    "/resource_providers": {"GET": providers.list_providers, "POST": providers.create_provider},
    RP: {"GET": providers.get_provider, "PUT": providers.update_provider, "DELETE": providers.delete_provider},
    RP + "/inventories": {"GET": providers.list_inventories, "PUT": providers.replace_inventories,
                          "POST": providers.create_inventory, "DELETE": providers.delete_inventories},
    RP + "/inventories/{resource_class}": {"GET": providers.get_inventory, "PUT": providers.update_inventory,
                                           "DELETE": providers.delete_inventory},
    RP + "/traits": {"GET": providers.get_provider_traits, "PUT": providers.set_provider_traits,
                     "DELETE": providers.delete_provider_traits},
    RP + "/aggregates": {"GET": providers.get_provider_aggregates, "PUT": providers.set_provider_aggregates},
    RP + "/usages": {"GET": providers.provider_usages},
    RP + "/allocations": {"GET": allocations.provider_allocations},
    "/allocations": {"POST": allocations.post_allocations},
    "/allocations/{consumer_uuid}": {"GET": allocations.get_allocations, "PUT": allocations.put_allocations,
                                     "DELETE": allocations.delete_allocations},
    "/allocation_candidates": {"GET": allocations.allocation_candidates},
    "/usages": {"GET": allocations.project_usages},
    "/resource_classes": {"GET": classes.list_classes, "POST": classes.create_class},
    "/resource_classes/{name}": {"GET": classes.get_class, "PUT": classes.put_class, "DELETE": classes.delete_class},
    "/traits": {"GET": classes.list_traits},
    "/traits/{name}": {"GET": classes.get_trait, "PUT": classes.put_trait, "DELETE": classes.delete_trait},
}

# Writes that lose a deadlock (two claims or inventory updates locking the same provider rows, or a Galera
# certification failure) are run again rather than answered 500.
ROUTES: router.RouteTable = {
    path: {method: handler if method == "GET" else rerun_on_deadlock(handler) for method, handler in methods.items()}
    for path, methods in _ROUTES.items()
}
