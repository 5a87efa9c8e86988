"""The pages, one module per area (sign-in, the secretariat console, the door, the public pages, …).

Every module here is a page area: it defines `router` (an `APIRouter`), and may define `NAV`, the
links it adds to the site's navigation. `create_app` includes every area it finds, in name order,
so adding an area is adding a module — no list to edit. Its templates live in
`templates/<area>/`, its Spanish in `locale/es/<area>.po`, its styles (if any) in
`static/<area>.css`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from fastapi import APIRouter

from shared.auth.permissions import Permission, Role, permissions_of

Audience = Literal["public", "staff", "party"]


@dataclass(frozen=True)
class NavItem:
    """A link of the site's navigation: `label` is English (`N_`), translated when drawn; shown to
    everyone (`public`), to signed-in staff, or to a signed-in party (a focal point, an
    exhibitor, a participant with their personal code). Lower `order` first. A staff link with
    `permissions` is shown only to roles holding one of them (the page would say the role
    cannot); without, to every member of staff."""

    label: str
    href: str
    audience: Audience = "public"
    order: int = 100
    permissions: tuple[Permission, ...] = ()

    def shown_to(self, roles: tuple[str, ...]) -> bool:
        if not self.permissions:
            return True
        known = [Role(role) for role in roles if role in Role.__members__.values()]
        return bool(permissions_of(known) & set(self.permissions))


def areas() -> list[ModuleType]:
    """Every page area (module of this package with a `router`), in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "router", None), APIRouter):
            found.append(module)
    return found


def navigation(modules: list[ModuleType]) -> list[NavItem]:
    items: list[NavItem] = [item for module in modules for item in getattr(module, "NAV", ())]
    return sorted(items, key=lambda item: (item.order, item.href))
