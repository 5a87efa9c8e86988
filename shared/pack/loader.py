"""Reading an event pack from YAML, with deployment overrides, into a validated `EventPack`.

A pack is written by people, so every failure is reported as something a person can act on: the
file, the place inside it (`categories[3].capacity`), the reason and, when it can be found, the
line — one line per problem, all problems at once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml
from pydantic import ValidationError

from shared.pack.model import EventPack, format_loc

DEFAULT_PACK = Path(__file__).parent / "packs" / "crm-2004" / "pack.yaml"

# libyaml is ~10x faster than the pure-Python parser; services and tests load packs often. A
# build of PyYAML without libyaml has no CSafeLoader; the type checker sees the pure-Python loader,
# whose constructor API is the same.
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PATH_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\d+)((?:\[\d+\])*)")


@dataclass(frozen=True)
class PackProblem:
    location: str
    reason: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}: {self.location}: " if self.location else f"{file}: "
        suffix = f" (line {self.line})" if self.line else ""
        return f"{where}{self.reason}{suffix}"


class PackError(Exception):
    """The pack cannot be used. `str()` is one line per problem, each naming file and path."""

    def __init__(self, file: str | Path, problems: list[PackProblem]) -> None:
        self.file = str(file)
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.render(self.file) for problem in self.problems))


def _fail(file: Path, location: str, reason: str) -> NoReturn:
    raise PackError(file, [PackProblem(location, reason)])


class _StrictLoader(_BaseLoader):
    """Safe loader refusing duplicate keys, which plain YAML silently resolves to the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_pack(
    path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None
) -> EventPack:
    """Load and validate a pack; the bundled CRM 2004 forum when `path` is None.

    `overrides` maps dotted paths to values applied before validation, so a deployment can move
    the forum without editing the pack: `{"forum.start_date": "2026-11-18"}`. List entries are
    addressed as `categories[3].capacity` or `categories.3.capacity`.
    """
    file = Path(path) if path is not None else DEFAULT_PACK
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(file, "", f"cannot read the pack: {exc.strerror or exc}")

    data = _parse(file, text)
    overridden: set[str] = set()
    for dotted, value in (overrides or {}).items():
        _apply_override(file, data, dotted, value)
        overridden.add(format_loc(_split_path(file, dotted)))

    try:
        return EventPack.model_validate(data)
    except ValidationError as exc:
        raise PackError(file, _problems(exc, text, overridden)) from None


def _parse(file: Path, text: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = f"invalid YAML: {exc.problem or exc}"
        _fail(file, where, reason)
    except yaml.YAMLError as exc:
        _fail(file, "", f"invalid YAML: {exc}")
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        _fail(file, "", f"the pack must be a mapping, but it is {kind}")
    return data


def _split_path(file: Path, dotted: str) -> list[str | int]:
    parts: list[str | int] = []
    for segment in dotted.split("."):
        match = _PATH_SEGMENT.fullmatch(segment)
        if match is None:
            _fail(file, f"override {dotted!r}", "is not a valid dotted path")
        name, indexes = match.groups()
        parts.append(int(name) if name.isdigit() else name)
        parts.extend(int(index) for index in re.findall(r"\d+", indexes))
    return parts


def _apply_override(file: Path, data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = _split_path(file, dotted)
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = format_loc(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                reason = "no such list entry" if isinstance(node, list) else "parent is not a list"
                _fail(file, f"override {dotted!r}", f"{here}: {reason}")
        elif not isinstance(node, dict):
            _fail(file, f"override {dotted!r}", f"{here}: parent is not a mapping")
        if last:
            node[part] = copy.deepcopy(value)
        else:
            # A missing intermediate mapping is created so that validation reports the real
            # problem (an unknown key) instead of the override machinery failing first.
            if isinstance(node, dict) and part not in node:
                node[part] = {}
            node = node[part]


def _problems(exc: ValidationError, text: str, overridden: set[str]) -> list[PackProblem]:
    lines = _LineFinder(text)
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        # Consistency checks report several problems at once, each relative to the model that
        # found them; everything else is one pydantic error per field.
        nested = ctx.get("problems") if error["type"] == "pack_inconsistent" else None
        entries = (
            [((*loc, *item["loc"]), item["msg"]) for item in nested]
            if nested
            else [(loc, error["msg"])]
        )
        for full_loc, message in entries:
            location = format_loc(full_loc)
            from_override = any(
                location == path or location.startswith((path + ".", path + "["))
                for path in overridden
            )
            line = None if from_override else lines.line_of(full_loc)
            reason = f"{message} (set by override)" if from_override else message
            problems.append(PackProblem(location, reason, line))
    return problems


class _LineFinder:
    """Maps a validation location back to a line of the YAML text, best effort."""

    def __init__(self, text: str) -> None:
        try:
            self._root: yaml.Node | None = yaml.compose(text, Loader=_BaseLoader)
        except yaml.YAMLError:
            self._root = None

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        node = self._root
        if node is None:
            return None
        line = None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        line, child = key_node.start_mark.line + 1, value_node
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    child = node.value[part]
                    line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line
