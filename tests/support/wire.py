"""What a service sends its database, seen on the wire (PyMongo command monitoring): the
commands of a use case (round trips) and the filters of its queries, to explain each one.

SecantusDB answers a filter no index covers — `$or`, `$ne`, a field beside an indexed one — by
reading the whole collection: every service's `test_query_plans.py` records what it sends and
fails on a collection scan or an index no query uses.
"""

from __future__ import annotations

import json
from typing import Any

from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

HANDSHAKE = frozenset({"ping", "endSessions", "hello", "isMaster", "ismaster"})


class Commands(CommandListener):
    """Every command sent, as (command name, collection), in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name not in HANDSHAKE:
            self.sent.append((event.command_name, str(event.command.get(event.command_name))))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def take(self) -> list[tuple[str, str]]:
        """What was sent since the last take."""
        sent, self.sent = self.sent, []
        return sent


class FilterRecorder(CommandListener):
    """The filter of every read, update, delete and aggregation (its first `$match`) sent, with
    its collection; the sort of a find, by its position in `filters`."""

    def __init__(self) -> None:
        self.filters: list[tuple[str, dict[str, Any]]] = []
        self.sorts: dict[int, dict[str, Any]] = {}

    def started(self, event: CommandStartedEvent) -> None:
        command, name = event.command, event.command_name
        if name == "find":
            if command.get("sort"):
                self.sorts[len(self.filters)] = dict(command["sort"])
            self.filters.append((command["find"], dict(command.get("filter", {}))))
        elif name == "aggregate" and command.get("pipeline"):
            first = command["pipeline"][0]
            self.filters.append((command["aggregate"], dict(first.get("$match", {}))))
        elif name == "update":
            self.filters.extend((command["update"], dict(u["q"])) for u in command["updates"])
        elif name == "delete":
            self.filters.extend((command["delete"], dict(d["q"])) for d in command["deletes"])
        elif name == "findAndModify":
            self.filters.append((command["findAndModify"], dict(command.get("query", {}))))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def located_by(query: dict[str, Any]) -> dict[str, Any]:
    """The part of a filter that finds the documents.

    A filter with an `_id` equality finds one document by it and checks the rest (an optimistic
    `version`, an upsert's `$ne` guards) on that document only. SecantusDB's explain calls such a
    residual predicate a COLLSCAN with every document examined, although it runs as fast as the
    bare lookup (0.4–0.6 ms at 5,000–10,000 documents, against 40–125 ms for a real scan), so the
    guards are left out of the explain. A top-level `$or`/`$and`, which it does scan, never is.
    """
    assert "$or" not in query and "$and" not in query, query
    if isinstance(query.get("_id"), str):
        return {"_id": query["_id"]}
    return query


def scans(plan: Any) -> bool:
    return "COLLSCAN" in json.dumps(plan, default=str)


def indexes_used(plan: Any) -> set[str]:
    """Names of the indexes a plan reads (its winning plan's IXSCAN stages)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "indexName" in node:
                found.add(node["indexName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan.get("queryPlanner", {}).get("winningPlan", plan))
    return found
