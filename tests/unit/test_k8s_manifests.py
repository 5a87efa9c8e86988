"""deploy/k8s: every kustomization renders, every object is valid against its schema, and the
deployment keeps its promises (read-only root, non-root, resources, PDBs, metrics, network
policies, mail in production, the pack where FORO_PACK_PATH points, the rules of alerts.yml, the
web pages reaching the services and reached through the ingress).

Built-in kinds are validated with kubernetes-validate in strict mode (unknown fields fail).
ServiceMonitor, PrometheusRule, ScaledObject and TriggerAuthentication are validated with the
cloudcoil models generated from the Prometheus Operator's and KEDA's CRDs (PyPI), strictly: a
field the model does not know is dropped on the way through, and the round trip then differs.
RabbitmqCluster and MongoDBCommunity have no schema package on a registry: a focused structural
check on the fields their operators' CRDs define (the ones used here).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication
from cloudcoil.models.prometheus_operator.v1 import PrometheusRule, ServiceMonitor

from services.registration.settings import RegistrationSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
PORTS = {"registration": 8001, "scheduling": 8002, "expo": 8003, "notification": 8004}
PORTS |= {"reporting": 8005, "web": 8006}
KUSTOMIZATIONS = ("base", "overlays/local", "overlays/production", "examples")
K8S_VERSION = kubernetes_validate.latest_version()

_spec = importlib.util.spec_from_file_location("foro_k8s_render", K8S / "render.py")
assert _spec is not None and _spec.loader is not None
render = importlib.util.module_from_spec(_spec)
sys.modules["foro_k8s_render"] = render
_spec.loader.exec_module(render)

Object = dict[str, Any]

CRD_MODELS: dict[tuple[str, str], Any] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ServiceMonitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PrometheusRule,
    ("keda.sh/v1alpha1", "ScaledObject"): ScaledObject,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): TriggerAuthentication,
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Object]]:
    return {name: render.render_builtin(K8S / name) for name in KUSTOMIZATIONS}


def _of(objects: list[Object], kind: str) -> list[Object]:
    return [o for o in objects if o["kind"] == kind]


def _named(objects: list[Object], kind: str, name: str) -> Object:
    (found,) = [o for o in _of(objects, kind) if o["metadata"]["name"] == name]
    return found


def _config_map(objects: list[Object], name: str) -> Object:
    """A generated ConfigMap by its name before the hash suffix."""
    (found,) = [
        o
        for o in _of(objects, "ConfigMap")
        if re.fullmatch(rf"{name}-[a-z0-9]{{10}}", o["metadata"]["name"])
    ]
    return found


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _foro_deployments(objects: list[Object]) -> list[Object]:
    return [d for d in _of(objects, "Deployment") if d["metadata"]["name"] in SERVICES]


def _environment(objects: list[Object], deployment: Object) -> dict[str, str]:
    """What a container's environment resolves to from ConfigMaps (Secrets left out)."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]
            maps = [o for o in _of(objects, "ConfigMap") if o["metadata"]["name"] == ref["name"]]
            assert maps or ref.get("optional"), f"{ref['name']} is not rendered"
            for found in maps:
                env.update(found.get("data", {}))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
    return env


# -- rendering ------------------------------------------------------------------------------


def test_every_kustomization_renders_with_the_builtin_renderer(
    rendered: dict[str, list[Object]],
) -> None:
    for name, objects in rendered.items():
        assert objects, name
    for name in ("overlays/local", "overlays/production"):
        assert {d["metadata"]["name"] for d in _of(rendered[name], "Deployment")} - {"mailpit"} == {
            *SERVICES,
            "web",
        }


def test_the_builtin_renderer_gives_what_kustomize_gives(
    rendered: dict[str, list[Object]],
) -> None:
    command = render.external_renderer()
    if command is None:
        pytest.skip("neither kustomize nor kubectl on PATH: nothing to compare the renderer with")
    for name in KUSTOMIZATIONS:
        theirs = render.render_external(K8S / name, command)
        key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
        assert sorted(map(key, theirs)) == sorted(map(key, rendered[name])), name
        ours = {key(o): o for o in rendered[name]}
        for obj in theirs:
            assert ours[key(obj)] == obj, f"{name}: {key(obj)} differs from {' '.join(command)}"


def test_the_builtin_renderer_refuses_what_it_does_not_do(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nhelmCharts: []\n")
    with pytest.raises(render.RenderError, match="helmCharts: not supported"):
        render.render_builtin(tmp_path)


# -- schemas --------------------------------------------------------------------------------


def _strict_round_trip(model: Any, obj: Object) -> Object:
    dumped: Object = model.model_validate(obj).model_dump(
        mode="json", by_alias=True, exclude_unset=True
    )
    return dumped


def test_every_object_is_valid_against_its_schema(rendered: dict[str, list[Object]]) -> None:
    seen: set[str] = set()
    for name, objects in rendered.items():
        for obj in objects:
            where = f"{name}: {obj['kind']} {obj['metadata']['name']}"
            model = CRD_MODELS.get((obj["apiVersion"], obj["kind"]))
            if model is not None:
                assert _strict_round_trip(model, obj) == obj, f"{where}: unknown or invalid fields"
            elif obj["kind"] == "RabbitmqCluster":
                _check_rabbitmq_cluster(obj)
            elif obj["kind"] == "MongoDBCommunity":
                _check_mongodb_community(obj)
            else:
                try:
                    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
                except kubernetes_validate.ValidationError as error:
                    pytest.fail(f"{where}: {error.message} at {list(error.path)}")
            seen.add(obj["kind"])
    assert {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ConfigMap",
        "Ingress",
        "NetworkPolicy",
        "ServiceMonitor",
        "PrometheusRule",
        "ScaledObject",
        "TriggerAuthentication",
        "HorizontalPodAutoscaler",
        "RabbitmqCluster",
        "MongoDBCommunity",
    } <= seen


def test_the_strict_crd_check_catches_an_unknown_field() -> None:
    monitor = _named(render.render_builtin(K8S / "base"), "ServiceMonitor", "foro")
    monitor["spec"]["endpoints"][0]["pathh"] = "/metrics"
    assert _strict_round_trip(ServiceMonitor, monitor) != monitor


def test_kubernetes_validate_is_strict() -> None:
    service = _named(render.render_builtin(K8S / "base"), "Service", "expo")
    service["spec"]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, K8S_VERSION, strict=True)


# Fields of the operators' CRDs (rabbitmq/cluster-operator config/crd/bases, v1beta1;
# mongodb/mongodb-kubernetes-operator config/crd/bases, v1) that these manifests may use.
RABBITMQ_SPEC = {
    "replicas": int,
    "image": str,
    "resources": dict,
    "rabbitmq": dict,
    "persistence": dict,
    "affinity": dict,
    "override": dict,
    "service": dict,
    "tls": dict,
    "terminationGracePeriodSeconds": int,
}
MONGODB_SPEC = {
    "members": int,
    "type": str,
    "version": str,
    "security": dict,
    "users": list,
    "additionalMongodConfig": dict,
    "statefulSet": dict,
    "prometheus": dict,
}


def _check_rabbitmq_cluster(obj: Object) -> None:
    assert obj["apiVersion"] == "rabbitmq.com/v1beta1"
    spec = obj["spec"]
    for key, value in spec.items():
        assert isinstance(value, RABBITMQ_SPEC[key]), key
    assert spec["replicas"] in {1, 3, 5}, "an odd number of nodes, for quorum queues"
    assert set(spec["rabbitmq"]) <= {
        "additionalConfig",
        "additionalPlugins",
        "advancedConfig",
        "envConfig",
    }
    assert set(spec["persistence"]) <= {"storage", "storageClassName"}
    assert set(spec["resources"]) <= {"requests", "limits"}
    assert re.fullmatch(r"rabbitmq:4\.\d+[\w.-]*", spec["image"]), "RabbitMQ 4.x"
    assert "default_queue_type = quorum" in spec["rabbitmq"]["additionalConfig"]


def _check_mongodb_community(obj: Object) -> None:
    assert obj["apiVersion"] == "mongodbcommunity.mongodb.com/v1"
    spec = obj["spec"]
    for key, value in spec.items():
        assert isinstance(value, MONGODB_SPEC[key]), key
    assert {"security", "type", "users"} <= set(spec), "required by the CRD"
    assert spec["type"] == "ReplicaSet"
    assert set(spec["security"]) <= {"authentication", "roles", "tls"}
    assert set(spec["security"]["authentication"]) <= {"modes", "ignoreUnknownUsers"}
    user_fields = {
        "name",
        "db",
        "passwordSecretRef",
        "roles",
        "scramCredentialsSecretName",
        "connectionStringSecretName",
    }
    databases = set()
    for user in spec["users"]:
        assert {"name", "roles"} <= set(user) and set(user) <= user_fields
        for role in user["roles"]:
            assert set(role) == {"name", "db"}
            databases.add(role["db"])
    assert databases == {f"foro_{service}" for service in SERVICES}


# -- what every workload promises -----------------------------------------------------------


def _containers(deployment: Object) -> Iterator[Object]:
    spec = deployment["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def test_every_container_is_read_only_non_root_and_bounded(
    rendered: dict[str, list[Object]],
) -> None:
    for name, objects in rendered.items():
        for deployment in _of(objects, "Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["automountServiceAccountToken"] is False
            mounts_needed = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
            for container in _containers(deployment):
                where = f"{name}: {deployment['metadata']['name']}/{container['name']}"
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"]["drop"] == ["ALL"], where
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(container["resources"][bound]), where
                mounted = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert mounted.get("/tmp") in mounts_needed, f"{where}: a writable /tmp"


def test_every_deployment_has_a_pdb_metrics_and_network_policies(
    rendered: dict[str, list[Object]],
) -> None:
    for name in ("overlays/local", "overlays/production"):
        objects = rendered[name]
        for deployment in _of(objects, "Deployment"):
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            where = f"{name}: {deployment['metadata']['name']}"
            assert any(
                _selects(p["spec"]["selector"]["matchLabels"], labels)
                for p in _of(objects, "PodDisruptionBudget")
            ), f"{where}: no PodDisruptionBudget"
            policies = [
                p
                for p in _of(objects, "NetworkPolicy")
                if _selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
            ]
            # Both directions under a policy: what no rule allows is denied.
            assert any(set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"} for p in policies), (
                f"{where}: not denied by default"
            )
            if deployment["metadata"]["name"] not in SERVICES:
                continue
            assert any(
                any(
                    port.get("port") == 53
                    for rule in p["spec"].get("egress", [])
                    for port in rule["ports"]
                )
                for p in policies
            ), f"{where}: cannot resolve names"
            assert any(
                any(
                    port.get("port") == 5672
                    for rule in p["spec"].get("egress", [])
                    for port in rule["ports"]
                )
                for p in policies
            ), f"{where}: cannot reach the broker"
            assert any(
                any(
                    port.get("port") == "http"
                    for rule in p["spec"].get("ingress", [])
                    for port in rule["ports"]
                )
                for p in policies
            ), f"{where}: nothing reaches its HTTP port"
            services = [
                s for s in _of(objects, "Service") if _selects(s["spec"]["selector"], labels)
            ]
            assert services, f"{where}: no Service"
            monitors = _of(objects, "ServiceMonitor")
            assert any(
                _selects(m["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
                and any(
                    e["port"] == "http" and e["path"] == "/metrics" for e in m["spec"]["endpoints"]
                )
                for m in monitors
                for s in services
            ), f"{where}: not scraped by a ServiceMonitor"


def test_notification_sends_to_a_real_relay_in_production(
    rendered: dict[str, list[Object]],
) -> None:
    production = rendered["overlays/production"]
    env = _environment(production, _named(production, "Deployment", "notification"))
    assert env["NOTIFICATION_SMTP_HOST"] not in {"127.0.0.1", "localhost", "mailpit", ""}
    assert env["NOTIFICATION_SMTP_PORT"] != "1025"
    assert env["NOTIFICATION_SMTP_SECURITY"] in {"starttls", "tls"}
    assert env["FORO_ENVIRONMENT"] == "production"
    container = _named(production, "Deployment", "notification")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"name": "foro-notification-credentials", "optional": True} in [
        s.get("secretRef") for s in container["envFrom"]
    ]
    local = rendered["overlays/local"]
    local_env = _environment(local, _named(local, "Deployment", "notification"))
    assert (local_env["NOTIFICATION_SMTP_HOST"], local_env["FORO_ENVIRONMENT"]) == (
        "mailpit",
        "development",
    )


def test_production_takes_the_urls_from_the_operators_secrets(
    rendered: dict[str, list[Object]],
) -> None:
    production = rendered["overlays/production"]
    for deployment in _foro_deployments(production):
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["FORO_BROKER_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "rabbitmq-default-user",
            "key": "connection_string",
        }
        assert env["FORO_MONGO_URL"]["valueFrom"]["secretKeyRef"]["name"] == "mongodb-admin-foro"
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == "registry.example.org/foro:0.1.0"


def test_the_pack_is_mounted_where_foro_pack_path_points(
    rendered: dict[str, list[Object]],
) -> None:
    for name in ("overlays/local", "overlays/production"):
        objects = rendered[name]
        pack_map = _config_map(objects, "foro-pack")
        for deployment in [*_foro_deployments(objects), _named(objects, "Deployment", "web")]:
            pod = deployment["spec"]["template"]["spec"]
            pack_path = Path(_environment(objects, deployment)["FORO_PACK_PATH"])
            (mount,) = [
                m
                for m in pod["containers"][0]["volumeMounts"]
                if m["mountPath"] == str(pack_path.parent)
            ]
            (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
            assert volume["configMap"]["name"] == pack_map["metadata"]["name"]
            assert pack_path.name in pack_map["data"]
    bundled = ROOT / "shared" / "pack" / "packs" / "crm-2004" / "pack.yaml"
    assert (K8S / "base" / "pack" / "pack.yaml").read_text() == bundled.read_text(), (
        "deploy/k8s/base/pack/pack.yaml is a copy of the bundled pack: copy it again"
    )


def test_the_prometheus_rule_is_alerts_yml(rendered: dict[str, list[Object]]) -> None:
    alerts = yaml.safe_load((ROOT / "deploy" / "observability" / "alerts.yml").read_text())
    rule = _named(rendered["base"], "PrometheusRule", "foro")
    assert rule["spec"]["groups"] == alerts["groups"]
    assert (K8S / "base" / "prometheusrule.yaml").read_text() == render.prometheus_rule_text(), (
        "run: python deploy/k8s/render.py --sync-rules"
    )


def test_keda_scales_on_queues_the_services_consume(rendered: dict[str, list[Object]]) -> None:
    queues: set[str] = set()
    for service in SERVICES:
        document = json.loads((ROOT / "deploy" / "asyncapi" / f"{service}.json").read_text())
        queues |= set(re.findall(r'"queue":\s*\{[^{}]*?"name":\s*"([^"]+)"', json.dumps(document)))
    production = rendered["overlays/production"]
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in _of(production, "ScaledObject")}
    assert set(scaled) == set(SERVICES)
    for service, scaled_object in scaled.items():
        rabbit = [t for t in scaled_object["spec"]["triggers"] if t["type"] == "rabbitmq"]
        assert rabbit, service
        for trigger in rabbit:
            assert trigger["metadata"]["queueName"] in queues
            assert trigger["metadata"]["queueName"].startswith(f"foro.{service}.")
    assert not _of(production, "HorizontalPodAutoscaler"), "KEDA owns the HPA in production"
    hpas = _of(rendered["overlays/local"], "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == set(SERVICES)


def _openapi_paths(service: str) -> set[str]:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    return set(bootstrap.create_app().openapi()["paths"])


def _routed(paths: list[Object], path: str) -> bool:
    for rule in paths:
        if rule["pathType"] == "Exact" and path == rule["path"]:
            return True
        if rule["pathType"] == "Prefix" and (
            path == rule["path"] or path.startswith(rule["path"].rstrip("/") + "/")
        ):
            return True
    return False


def test_ingress_routes_every_api_and_never_metrics(rendered: dict[str, list[Object]]) -> None:
    objects = rendered["overlays/production"]
    api = _named(objects, "Ingress", "foro-api")
    public = _named(objects, "Ingress", "foro-public")
    for ingress in (api, public):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["path"] not in {"/", ""}
                assert not _routed([path], "/metrics") and not _routed([path], "/health/ready")
    by_host = {r["host"]: r["http"]["paths"] for r in api["spec"]["rules"]}
    for service in SERVICES:
        paths = by_host[f"{service}.api.foro.example.org"]
        assert {p["backend"]["service"]["name"] for p in paths} == {service}
        for path in _openapi_paths(service) - {"/metrics", "/health/live", "/health/ready"}:
            assert _routed(paths, path), f"{service}: {path} is not on the Ingress"
    public_paths = public["spec"]["rules"][0]["http"]["paths"]
    for path, service in [
        ("/intake/registrations", "registration"),
        ("/agenda.ics", "scheduling"),
        ("/rooms/{room}/agenda.ics", "scheduling"),
        ("/floor-plan.svg", "expo"),
    ]:
        (match,) = [p for p in public_paths if _routed([p], path)]
        assert match["backend"]["service"]["name"] == service


# -- the web pages --------------------------------------------------------------------------


def _port_named(objects: list[Object], service: str, name: str) -> int:
    (port,) = [p for p in _named(objects, "Service", service)["spec"]["ports"] if p["name"] == name]
    return int(port["port"])


def _policies_for(objects: list[Object], labels: dict[str, str]) -> list[Object]:
    return [
        p
        for p in _of(objects, "NetworkPolicy")
        if _selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
    ]


def test_the_web_pages_run_beside_the_services_and_reach_them(
    rendered: dict[str, list[Object]],
) -> None:
    for name in ("overlays/local", "overlays/production"):
        objects = rendered[name]
        web = _named(objects, "Deployment", "web")
        container = web["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", "services.web"]
        assert (
            container["image"]
            == _named(objects, "Deployment", "registration")["spec"]["template"]["spec"][
                "containers"
            ][0]["image"]
        )
        env = _environment(objects, web)
        assert env["WEB_HTTP_PORT"] == str(PORTS["web"]) == str(_port_named(objects, "web", "http"))
        for service in SERVICES:  # each URL names the service's Service and its port
            url = f"http://{service}:{_port_named(objects, service, 'http')}"
            assert env[f"WEB_{service.upper()}_URL"] == url, (name, service)
        # The cookie secret (and the sign-up form's webhook secret) from foro-credentials.
        assert {"name": "foro-credentials", "optional": True} in [
            s.get("secretRef") for s in container["envFrom"]
        ]
        assert "FORO_BROKER_URL" not in {e["name"] for e in container["env"]}  # owns no data
        # Network: the web may call every service's HTTP port, and each service lets it in.
        labels = web["spec"]["template"]["metadata"]["labels"]
        assert any(
            rule["ports"] == [{"protocol": "TCP", "port": "http"}]
            and any(
                _selects(peer["podSelector"]["matchLabels"], {"app.kubernetes.io/part-of": "foro"})
                for peer in rule["to"]
            )
            for p in _policies_for(objects, labels)
            for rule in p["spec"].get("egress", [])
        ), f"{name}: the web cannot call the services"
        for service in SERVICES:
            pod = _named(objects, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
            assert any(
                any(_selects(peer["podSelector"]["matchLabels"], labels) for peer in rule["from"])
                for p in _policies_for(objects, pod)
                for rule in p["spec"].get("ingress", [])
                if all("podSelector" in peer for peer in rule["from"])
            ), f"{name}: {service} does not let the web in"
        # No /metrics on the web: its Service is not scraped.
        (monitor,) = _of(objects, "ServiceMonitor")
        web_service = _named(objects, "Service", "web")["metadata"]["labels"]
        excluded = monitor["spec"]["selector"]["matchExpressions"]
        assert {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["web"]} in excluded
        assert web_service["app.kubernetes.io/name"] == "web"


def test_the_web_pages_are_on_the_public_host_and_registration_trusts_the_pods(
    rendered: dict[str, list[Object]],
) -> None:
    objects = rendered["overlays/production"]
    web = _named(objects, "Ingress", "foro-web")
    public = _named(objects, "Ingress", "foro-public")
    assert [r["host"] for r in web["spec"]["rules"]] == [r["host"] for r in public["spec"]["rules"]]
    assert web["spec"]["tls"] == public["spec"]["tls"]
    (path,) = web["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["pathType"], path["backend"]["service"]["name"]) == (
        "/",
        "Prefix",
        "web",
    )
    assert web["metadata"]["annotations"] == public["metadata"]["annotations"]
    env = _environment(objects, _named(objects, "Deployment", "registration"))
    trusted = RegistrationSettings(trusted_proxies=env["REGISTRATION_TRUSTED_PROXIES"])
    assert trusted.trusted_proxies, "registration trusts no proxy: every sign-in has one address"
