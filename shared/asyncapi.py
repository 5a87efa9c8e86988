"""AsyncAPI documents, generated from the code (never written by hand).

    foro asyncapi generate   regenerate deploy/asyncapi/<service>.json for every service
    foro asyncapi check      fail if a committed document is stale (shared/cli/asyncapi.py)

Each file is the document `faststream docs gen --factory services.<name>.main:asyncapi_app` writes,
with its keys sorted: FastStream orders channels arbitrarily, and a stable order keeps diffs honest.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from pydantic import SecretStr

from shared.settings import ServiceSettings

SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
OUT = Path(__file__).resolve().parents[1] / "deploy" / "asyncapi"
VERSION = "0.1.0"


def documented_settings[S: ServiceSettings](settings_class: type[S]) -> S:
    """Settings fixed for documentation, whatever the environment says."""
    return settings_class(
        broker_url=SecretStr("amqp://guest:guest@rabbitmq:5672/"),
        namespace="foro",
        environment="development",  # a production shell must not refuse to describe the app
    )


def asyncapi_app(broker: RabbitBroker, service: str, description: str) -> FastStream:
    return FastStream(
        broker,
        specification=AsyncAPI(title=f"foro · {service}", version=VERSION, description=description),
    )


def render(service: str) -> str | None:
    """The service's document as `faststream docs gen` writes it; None if the service has none."""
    try:
        module = importlib.import_module(f"services.{service}.main")
    except ModuleNotFoundError:
        return None
    factory = getattr(module, "asyncapi_app", None)
    if factory is None:
        return None
    return (
        json.dumps(
            factory().schema.to_specification().to_jsonable(),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def documents() -> dict[str, str]:
    """Every service's document, by service (services without one left out)."""
    rendered = {service: render(service) for service in SERVICES}
    return {service: document for service, document in rendered.items() if document is not None}


def write_documents(out: Path = OUT) -> list[Path]:
    """Regenerate every document in `out`; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service, document in documents().items():
        path = out / f"{service}.json"
        path.write_text(document, encoding="utf-8")
        written.append(path)
    return written


def stale_documents(out: Path = OUT) -> list[str]:
    """The services whose committed document in `out` is missing or not what the code generates."""
    return [
        service
        for service, document in documents().items()
        if not (out / f"{service}.json").exists()
        or (out / f"{service}.json").read_text(encoding="utf-8") != document
    ]
