"""One logging setup for every service: structlog, context variables, JSON off a terminal.

Log lines carry ids (event, correlation, participant), never personal data: names, e-mail
addresses and phone numbers stay out of logs and dead-letter diagnostics.
"""

from __future__ import annotations

import logging
import sys
from typing import cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, WrappedLogger

_CONFIGURED = False


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    """Route structlog and the standard library (FastStream, uvicorn) through one renderer."""
    global _CONFIGURED
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())

    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Filters by level before any processor runs: a line below the level costs a method call.
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # `foro.access` (shared/observability.py) logs every request by route template; uvicorn's
    # access log would repeat each one with the raw path and query string (ids, e-mails).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    _CONFIGURED = True


def get_logger(name: str | None = None) -> FilteringBoundLogger:
    # configure_logging's wrapper_class (and structlog's default) is a filtering bound logger.
    return cast(FilteringBoundLogger, structlog.get_logger(name))
