"""What every service's HTTP app reports about itself: request metrics, correlation ids and
access logs (to be written)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.runtime import ServiceRuntime


def install_observability(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Adds request metrics, correlation-id handling and access logs to `app`."""
