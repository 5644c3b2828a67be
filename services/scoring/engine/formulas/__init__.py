"""Formula kinds: one module each, found here, so adding a kind is adding one module.

A kind's module defines one subclass of `FormulaKind` (see base.py) with `kind: Literal["<name>"]`;
the rule-file format accepts every kind found (`Formula`, a union told apart by `kind`), and the
engine and the reference call the kind's own methods.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any, Union, cast

from pydantic import Field

from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Row

_NOT_KINDS = {"base"}


def _discover() -> dict[str, type[FormulaKind]]:
    kinds: dict[str, type[FormulaKind]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_KINDS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, FormulaKind)
                and obj is not FormulaKind
                and obj.__module__ == module.__name__
            ):
                literal = cast(Any, obj.model_fields["kind"].annotation)  # Literal["<name>"]
                (name,) = literal.__args__
                kinds[name] = obj
    return kinds


KINDS: dict[str, type[FormulaKind]] = _discover()
if TYPE_CHECKING:
    # To a type checker every formula is a FormulaKind: the union below only exists at run time.
    Formula = FormulaKind
else:
    Formula = Annotated[Union[tuple(KINDS.values())], Field(discriminator="kind")]  # noqa: UP007 (built at run time)

__all__ = ["KINDS", "Formula", "FormulaKind", "Batch", "Holder", "Row"]
