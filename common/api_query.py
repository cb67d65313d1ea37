"""Refuse the query parameters an operation does not take, for every operation of the API at once.

Ignoring them would be worse than refusing them: a misspelt filter (`?stauts=new`) or a search a list
does not have (`?q=ana`) would answer the whole unfiltered list, and a CRM would take it for the result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest

from common.api_errors import ApiError


def query_parameters_taken(operation: Any) -> frozenset[str]:
    """Return the names of the query parameters a ninja operation reads (its filters and pagination)."""
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        flatten_map = getattr(model, "__ninja_flatten_map__", None)
        names.update(flatten_map or (field.alias or name for name, field in model.model_fields.items()))
    return frozenset(names)


def query_parameters_strict(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an operation's view so that a query parameter it does not take answers 422 `unknown_parameter`.

    Added to the whole API with `api.add_decorator(..., mode="operation")`, so it runs after the key
    and scope checks and after the known parameters were validated.
    """
    taken = query_parameters_taken(view_func._ninja_operation)  # type: ignore[attr-defined]  # set by ninja

    @wraps(view_func)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        unknown = sorted(set(request.GET) - taken)
        if unknown:
            raise _unknown_error(unknown, taken)
        return view_func(request, *args, **kwargs)

    return checked


def _unknown_error(unknown: list[str], taken: frozenset[str]) -> ApiError:
    allowed = ", ".join(sorted(taken)) or "none"
    details = [
        {
            "loc": ["query", name],
            "message": f"{name} is not a parameter of this operation; it takes: {allowed}",
            "type": "unknown_parameter",
        }
        for name in unknown
    ]
    noun = "parameter" if len(unknown) == 1 else "parameters"
    return ApiError(422, f"Unknown query {noun}: {', '.join(unknown)}.", code="unknown_parameter", details=details)
