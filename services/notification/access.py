"""How a route reaches the service: its dependencies (`NotificationDeps`, from `app.state`) and
the runtime, for routers declared at module level (FastAPI's "bigger applications"); each route
says the permission it needs with `shared.auth.dependencies.require`."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from services.notification.deps import Notification
from shared.runtime import ServiceRuntime


def notification(request: Request) -> Notification:
    return cast(Notification, request.app.state.deps)


def runtime(request: Request) -> ServiceRuntime:
    return cast(ServiceRuntime, request.app.state.runtime)


NotificationDeps = Annotated[Notification, Depends(notification)]
Runtime = Annotated[ServiceRuntime, Depends(runtime)]
