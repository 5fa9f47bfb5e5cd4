"""The OpenAPI document tells the truth: one component per schema name.

django-ninja builds each operation's schemas on their own and merges them into
``components.schemas`` by class name. Two different ``Schema`` classes of the same name (say an
``AreaOut`` in two apps) silently overwrite each other there, and clients (and schemathesis,
``make fuzz``) then validate one operation's answers against the other's shape. Found by the fuzz
run: ``GET /areas`` was documented with the dashboards' ``AreaOut``.
"""

import json
import typing
from collections import defaultdict

from pydantic import BaseModel

from yizhan.config.api import api


def _models(annotation, seen: set) -> typing.Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg, seen)


def _schema_classes() -> dict[str, set[type]]:
    by_name: dict[str, set[type]] = defaultdict(set)
    seen: set = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                roots = [*operation.response_models.values(), *operation.models]
                for root in roots:
                    for model in _models(root, seen):
                        if model.__module__ != "abc":  # ninja's per-operation wrappers
                            by_name[model.__name__].add(model)
    return by_name


def _shape(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), sort_keys=True)


def test_no_two_schemas_share_a_component_name():
    components = set(api.get_openapi_schema()["components"]["schemas"])
    clashes = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in _schema_classes().items()
        if name in components and len({_shape(c) for c in classes}) > 1
    }
    assert clashes == {}, f"schemas sharing a name in the OpenAPI document: {clashes}"
