"""AsyncAPI documents, generated from the code (never written by hand).

    python -m shared.asyncapi            regenerate deploy/asyncapi/<service>.json for every service
    python -m shared.asyncapi --check    fail if a committed document is stale

Each file is the document `faststream docs gen --factory services.<name>.main:asyncapi_app` writes,
with its keys sorted: FastStream orders channels arbitrarily, and a stable order keeps diffs honest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
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
        broker_url=SecretStr("amqp://guest:guest@rabbitmq:5672/"), namespace="foro"
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for service in SERVICES:
        document = render(service)
        if document is None:
            continue
        path = OUT / f"{service}.json"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != document:
                stale.append(service)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(
            f"stale AsyncAPI documents: {', '.join(stale)}; run python -m shared.asyncapi",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
