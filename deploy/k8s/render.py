"""Render a kustomization of deploy/k8s to YAML, and keep the PrometheusRule in step with alerts.yml.

    python deploy/k8s/render.py deploy/k8s/overlays/production     # the manifests, on stdout
    python deploy/k8s/render.py --engine builtin deploy/k8s/overlays/local
    python deploy/k8s/render.py --sync-rules                         # rewrite base/prometheusrule.yaml

The real renderers are `kustomize build` and `kubectl kustomize` (kustomize v5); `--engine auto`
(the default) uses the first one on PATH. Neither is on PyPI, npm or Debian, so a machine without
them uses the built-in renderer: a minimal kustomize for exactly the features these manifests use,
no more: `resources` (files and directories), `components`, `namespace`, `labels` (pairs, without
selectors), `images`, `patches` (RFC 6902 JSON patches, inline or from a file, with a target of
kind and name, both regular expressions) and `configMapGenerator` (`envs`, `files`, `literals`,
`behavior: create|merge|replace`, kustomize's content-hash name suffix and the name references to
it in Deployments). Anything else in a kustomization is refused, so the manifests stay plain
kustomize. tests/unit/test_k8s_manifests.py renders every overlay with it and, where kubectl is
installed, checks that both renderers give the same objects.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

K8S = Path(__file__).resolve().parent
ALERTS = K8S.parent / "observability" / "alerts.yml"
PROMETHEUS_RULE = K8S / "base" / "prometheusrule.yaml"

Object = dict[str, Any]

_KNOWN_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "components",
    "namespace",
    "labels",
    "images",
    "patches",
    "configMapGenerator",
}
# Kinds without a namespace among those these manifests use.
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
_HASH_MARK = "render.foro/needs-hash"


class RenderError(Exception):
    """The kustomization uses something this renderer does not do, or is wrong."""


# -- the built-in renderer ------------------------------------------------------------------


def _load_yaml_stream(path: Path) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _kustomization(directory: Path) -> Object:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            data = yaml.safe_load((directory / name).read_text(encoding="utf-8")) or {}
            unknown = set(data) - _KNOWN_KEYS
            if unknown:
                raise RenderError(
                    f"{directory / name}: {', '.join(sorted(unknown))}: not supported by the "
                    "built-in renderer (use kustomize or kubectl)"
                )
            return dict(data)
    raise RenderError(f"{directory}: no kustomization.yaml")


def _env_file(path: Path) -> dict[str, str]:
    data: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "=" not in line:
            raise RenderError(f"{path}:{number}: not KEY=VALUE")
        key, value = line.split("=", 1)
        data[key.strip()] = value
    return data


def _generated_data(directory: Path, spec: Object) -> dict[str, str]:
    data: dict[str, str] = {}
    for env in spec.get("envs", []):
        data.update(_env_file(directory / env))
    for item in spec.get("files", []):
        key, _, source = item.partition("=")
        path = directory / (source or key)
        data[Path(key).name if not source else key] = path.read_text(encoding="utf-8")
    for literal in spec.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    return data


def _config_map_hash(config_map: Object) -> str:
    """kustomize's name suffix: sha256 of the JSON of kind, name and data (Go's encoding/json:
    sorted keys, no spaces, <, > and & escaped), first 10 hex digits with 0 1 3 a e replaced.
    kustomize v5 hashes generated ConfigMaps with an empty name (checked against kubectl's
    kustomize v5.5.0 by tests/unit/test_k8s_manifests.py)."""
    encoded = json.dumps(
        {"data": config_map.get("data", {}), "kind": "ConfigMap", "name": ""},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    encoded = encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _matches(obj: Object, target: Object) -> bool:
    unknown = set(target) - {"kind", "name", "group", "version"}
    if unknown:
        raise RenderError(f"patch target: {', '.join(sorted(unknown))}: not supported")
    if "kind" in target and not re.fullmatch(target["kind"], obj.get("kind", "")):
        return False
    return "name" not in target or bool(re.fullmatch(target["name"], obj["metadata"]["name"]))


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer {path!r}: must start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _json_patch(obj: Object, operations: list[Object]) -> None:
    for operation in operations:
        op, parts = operation["op"], _pointer(operation["path"])
        parent: Any = obj
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        if op in {"add", "replace"}:
            value = copy.deepcopy(operation["value"])
            if isinstance(parent, list):
                if last == "-":
                    parent.append(value)
                elif op == "add":
                    parent.insert(int(last), value)
                else:
                    parent[int(last)] = value
            else:
                if op == "replace" and last not in parent:
                    raise RenderError(f"replace {operation['path']}: nothing there")
                parent[last] = value
        elif op == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            raise RenderError(f"JSON patch op {op!r}: not supported")


def _walk_containers(node: Any) -> Iterator[Object]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"containers", "initContainers"} and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            else:
                yield from _walk_containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_containers(item)


def _set_image(obj: Object, image: Object) -> None:
    for container in _walk_containers(obj):
        current = container.get("image")
        if not isinstance(current, str):
            continue
        name, _, tag = current.partition(":")
        if name != image["name"]:
            continue
        new_name = image.get("newName", name)
        new_tag = image.get("newTag", tag)
        container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name


def _build(directory: Path, accumulated: list[Object] | None = None) -> list[Object]:
    """The objects of one kustomization (or component, applied to `accumulated`)."""
    kustomization = _kustomization(directory)
    is_component = kustomization.get("kind") == "Component"
    objects: list[Object] = accumulated if is_component and accumulated is not None else []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects.extend(_build(path) if path.is_dir() else _load_yaml_stream(path))
    for entry in kustomization.get("components", []):
        objects = _build((directory / entry).resolve(), objects)
    for spec in kustomization.get("configMapGenerator", []):
        behavior = spec.get("behavior", "create")
        data = _generated_data(directory, spec)
        existing = [
            o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == spec["name"]
        ]
        if behavior == "create":
            if existing:
                raise RenderError(f"configMapGenerator {spec['name']}: already exists")
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": spec["name"], "annotations": {_HASH_MARK: "true"}},
                    "data": data,
                }
            )
        elif behavior in {"merge", "replace"}:
            if len(existing) != 1:
                raise RenderError(
                    f"configMapGenerator {spec['name']}: {behavior} needs one to exist"
                )
            if behavior == "merge":
                existing[0].setdefault("data", {}).update(data)
            else:
                existing[0]["data"] = data
        else:
            raise RenderError(f"configMapGenerator {spec['name']}: behavior {behavior!r}")
    for patch in kustomization.get("patches", []):
        text = patch.get("patch") or (directory / patch["path"]).read_text(encoding="utf-8")
        operations = yaml.safe_load(text)
        if not isinstance(operations, list):
            raise RenderError(f"{directory}: only JSON 6902 patches (a list of operations)")
        targets = [o for o in objects if _matches(o, patch.get("target", {}))]
        if not targets:
            raise RenderError(f"{directory}: patch target {patch.get('target')} matches nothing")
        for obj in targets:
            try:
                _json_patch(obj, operations)
            except (KeyError, IndexError, ValueError, TypeError) as error:
                name = obj["metadata"]["name"]
                raise RenderError(
                    f"{directory}: patch on {obj['kind']} {name}: {error!r}"
                ) from None
    for label in kustomization.get("labels", []):
        if label.get("includeSelectors") or label.get("includeTemplates"):
            raise RenderError("labels: includeSelectors/includeTemplates not supported")
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in _CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        for obj in objects:
            _set_image(obj, image)
    return objects


def _config_map_references(obj: Object) -> Iterator[Object]:
    """The places in a workload that name a ConfigMap (dicts holding its `name`)."""
    template = obj.get("spec", {}).get("template", {}).get("spec", {})
    for volume in template.get("volumes", []):
        if "configMap" in volume:
            yield volume["configMap"]
    for container in _walk_containers(template):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                yield source["configMapRef"]
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref is not None:
                yield ref


def render_builtin(directory: Path) -> list[Object]:
    objects = copy.deepcopy(_build(directory.resolve()))
    renamed: dict[tuple[str | None, str], str] = {}
    for obj in objects:
        annotations = obj["metadata"].get("annotations", {})
        if annotations.pop(_HASH_MARK, None) is None:
            continue
        if not annotations:
            del obj["metadata"]["annotations"]
        name = obj["metadata"]["name"]
        obj["metadata"]["name"] = f"{name}-{_config_map_hash(obj)}"
        renamed[(obj["metadata"].get("namespace"), name)] = obj["metadata"]["name"]
    for obj in objects:
        for ref in _config_map_references(obj):
            key = (obj["metadata"].get("namespace"), ref.get("name", ""))
            if key in renamed:
                ref["name"] = renamed[key]
    return objects


# -- kustomize or kubectl -------------------------------------------------------------------


def external_renderer() -> list[str] | None:
    """The command of a real kustomize on PATH, if there is one."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def render_external(directory: Path, command: list[str]) -> list[Object]:
    result = subprocess.run(
        [*command, str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RenderError(f"{' '.join(command)} {directory}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render(directory: Path, engine: str = "auto") -> list[Object]:
    command = external_renderer() if engine in {"auto", "external"} else None
    if engine == "external" and command is None:
        raise RenderError("neither kustomize nor kubectl is on PATH")
    return render_external(directory, command) if command else render_builtin(directory)


# -- the PrometheusRule ---------------------------------------------------------------------


def prometheus_rule_text() -> str:
    """base/prometheusrule.yaml: alerts.yml's groups as a PrometheusRule."""
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "foro", "labels": {"app.kubernetes.io/part-of": "foro"}},
        "spec": {"groups": groups},
    }
    header = (
        "# Written by `python deploy/k8s/render.py --sync-rules` from\n"
        "# deploy/observability/alerts.yml: edit that file, not this one.\n"
    )
    return header + yaml.safe_dump(rule, sort_keys=False, width=100, allow_unicode=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, help="a kustomization directory")
    parser.add_argument(
        "--engine", choices=["auto", "builtin", "external"], default="auto", help="default: auto"
    )
    parser.add_argument(
        "--sync-rules", action="store_true", help="rewrite base/prometheusrule.yaml from alerts.yml"
    )
    args = parser.parse_args(argv)
    if args.sync_rules:
        PROMETHEUS_RULE.write_text(prometheus_rule_text(), encoding="utf-8")
        print(f"wrote {PROMETHEUS_RULE}", file=sys.stderr)
        if args.directory is None:
            return 0
    if args.directory is None:
        parser.error("a kustomization directory is needed")
    try:
        objects = render(args.directory, args.engine)
    except (RenderError, OSError, yaml.YAMLError) as error:
        print(f"render: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(objects, sort_keys=False, width=100))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
