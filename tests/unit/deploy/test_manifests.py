"""The deployment files hold together: Dockerfile, deploy/compose.yaml, deploy/k8s/base.

Pure file checks, no Docker engine and no kubectl: the kustomize base is "rendered" by reading
its `resources:` and every object is validated against the Kubernetes OpenAPI schemas shipped
by kubernetes-validate (strict: unknown fields fail).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
K8S_BASE = ROOT / "deploy" / "k8s" / "base"
SETTINGS_FILE = ROOT / "shared" / "settings.py"

# service -> port of its HTTP server (/healthz, /readyz, /metrics)
HTTP_PORTS = {"ingest": 8101, "tickets": 8102, "notify": 8103, "search": 8104, "web": 8000}
SMTP_PORT = 2525
LMTP_PORT = 2424
BACKING_SERVICES = ("mongo", "rabbitmq", "opensearch")
# In a container the servers must listen on every interface, not on loopback.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104

# The newest Kubernetes version whose schemas kubernetes-validate ships (1.37 for 1.37.0).
K8S_VERSION = kubernetes_validate.latest_version()

Obj = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _compose() -> Obj:
    data = _load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict)
    return data


def _kustomization() -> Obj:
    data = _load_yaml(K8S_BASE / "kustomization.yaml")
    assert isinstance(data, dict)
    return data


def _render_base() -> list[Obj]:
    """The objects of the base, in `resources:` order (what kustomize would emit, minus its
    label and image transformations)."""
    objects: list[Obj] = []
    for resource in _kustomization()["resources"]:
        path = K8S_BASE / resource
        assert path.is_file(), f"kustomization resource {resource} is not a file of the base"
        with path.open(encoding="utf-8") as f:
            objects.extend(doc for doc in yaml.safe_load_all(f) if doc is not None)
    return objects


def _of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def _containers(deployment: Obj) -> list[Obj]:
    pod = deployment["spec"]["template"]["spec"]
    return list(pod.get("initContainers", [])) + list(pod["containers"])


def _command_list(value: str | list[str]) -> list[str]:
    return value.split() if isinstance(value, str) else list(value)


def _published_ports(service: Obj) -> Iterator[tuple[str | None, str]]:
    """(host_ip, published) for each `ports:` entry, short or long syntax."""
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            yield entry.get("host_ip"), str(entry.get("published"))
            continue
        spec = str(entry).split("/")[0]
        if spec.startswith("["):  # [::1]:8000:8000
            host, _, rest = spec[1:].partition("]:")
            yield host, rest.split(":")[0]
            continue
        parts = spec.split(":")
        if len(parts) == 3:
            yield parts[0], parts[1]
        else:  # "8000" or "8000:8000": every interface
            yield None, parts[0]


def _dev_secret_placeholder() -> str:
    """DEV_SECRET_PLACEHOLDER of shared/settings.py, read without importing the project."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name) and t.id == "DEV_SECRET_PLACEHOLDER" for t in node.targets
            )
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise AssertionError("shared/settings.py defines no DEV_SECRET_PLACEHOLDER string")


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "Dockerfile ends inside a continuation line"
    result = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_installs_locked_dependencies_with_uv() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [args for ins, args in instructions if ins == "RUN"]
    assert any(re.search(r"pip install\b.*\buv==0\.13\.8\b", r) for r in runs)
    sync = [i for i, (ins, args) in enumerate(instructions) if ins == "RUN" and "uv sync" in args]
    assert len(sync) == 1
    sync_args = instructions[sync[0]][1].split()
    for flag in ("--frozen", "--no-dev", "--no-install-project"):
        assert flag in sync_args
    copies = [(i, args) for i, (ins, args) in enumerate(instructions) if ins == "COPY"]
    lock_copy = [i for i, args in copies if "pyproject.toml" in args and "uv.lock" in args]
    assert lock_copy and lock_copy[0] < sync[0], "the lock is copied before `uv sync`"
    for package in ("shared/", "services/"):
        assert any(args.split()[0] == package and i > sync[0] for i, args in copies), package


def test_dockerfile_runs_python_module_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    entrypoints = [args for ins, args in instructions if ins == "ENTRYPOINT"]
    cmds = [args for ins, args in instructions if ins == "CMD"]
    assert entrypoints and json.loads(entrypoints[-1]) == ["python", "-m"]
    assert cmds, "a default CMD prints the usage"
    cmd = json.loads(cmds[-1])
    assert isinstance(cmd, list) and len(cmd) >= 1
    users = [args for ins, args in instructions if ins == "USER"]
    assert users, "the image runs as a non-root user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # Kubernetes' runAsNonRoot can only verify a numeric user.
    assert user.isdigit()


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in ("var", ".cache", ".venv", "tests", "bench/results"):
        assert required in patterns, required


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_the_five_services_from_the_one_dockerfile() -> None:
    services = _compose()["services"]
    for name in HTTP_PORTS:
        service = services[name]
        assert _command_list(service["command"]) == [f"services.{name}"]
        build = service["build"]
        assert build["dockerfile"] == "Dockerfile"
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT
        assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).is_file()


def test_compose_publishes_ports_on_loopback_only() -> None:
    services = _compose()["services"]
    published: set[str] = set()
    for name, service in services.items():
        for host_ip, port in _published_ports(service):
            assert host_ip == "127.0.0.1", f"{name} publishes {port} on {host_ip or 'all'}"
            published.add(port)
    assert {str(SMTP_PORT), str(LMTP_PORT), str(HTTP_PORTS["web"])} <= published
    for mail_port in (SMTP_PORT, LMTP_PORT):
        assert f"127.0.0.1:{mail_port}:{mail_port}" in services["ingest"]["ports"]
    assert any(p == "127.0.0.1:8000:8000" for p in services["web"]["ports"])


def test_compose_every_service_has_a_healthcheck() -> None:
    for name, service in _compose()["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable", False)


def test_compose_guichet_healthchecks_ask_their_own_http_port() -> None:
    services = _compose()["services"]
    for name, port in HTTP_PORTS.items():
        service = services[name]
        test = _command_list(service["healthcheck"]["test"])
        assert test[:3] == ["CMD", "python", "-c"], name
        assert "urllib.request.urlopen" in test[3]
        assert re.search(rf"http://127\.0\.0\.1:{port}/(readyz|healthz)\b", test[3]), name
        env = service["environment"]
        assert str(env[f"GUICHET_{name.upper()}_HTTP_PORT"]) == str(port)
        assert env["GUICHET_HTTP_HOST"] == ALL_INTERFACES


def test_compose_guichet_services_wait_for_healthy_dependencies() -> None:
    services = _compose()["services"]
    for name in HTTP_PORTS:
        depends_on = services[name]["depends_on"]
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        assert set(BACKING_SERVICES) <= set(depends_on), name
        for dependency, spec in depends_on.items():
            assert spec["condition"] == "service_healthy", f"{name} -> {dependency}"
            assert services[dependency].get("healthcheck"), dependency
    assert "mailpit" in services["notify"]["depends_on"]


def test_compose_backing_services_are_the_official_images() -> None:
    services = _compose()["services"]
    assert services["mongo"]["image"] == "mongo:7"
    assert re.fullmatch(r"rabbitmq:[\w.-]*management", services["rabbitmq"]["image"])
    assert services["opensearch"]["image"].startswith("opensearchproject/opensearch:2")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")


def test_compose_mongo_is_a_single_node_replica_set() -> None:
    services = _compose()["services"]
    mongo = services["mongo"]
    command = _command_list(mongo["command"])
    assert command[command.index("--replSet") + 1] == "rs0"
    assert "--bind_ip_all" in command
    health = " ".join(_command_list(mongo["healthcheck"]["test"]))
    assert "mongosh" in health and "rs.initiate(" in health
    for name in HTTP_PORTS:
        url = services[name]["environment"]["GUICHET_MONGO_URL"]
        assert url.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in url


def test_compose_opensearch_is_single_node_without_security_plugin() -> None:
    env = _compose()["services"]["opensearch"]["environment"]
    assert env["discovery.type"] == "single-node"
    assert str(env["plugins.security.disabled"]).lower() == "true"
    assert str(env["DISABLE_INSTALL_DEMO_CONFIG"]).lower() == "true"
    assert env["OPENSEARCH_JAVA_OPTS"] == "-Xms512m -Xmx1g"


def test_compose_notify_uses_the_mail_catcher_as_smarthost() -> None:
    services = _compose()["services"]
    env = services["notify"]["environment"]
    assert env["GUICHET_NOTIFY_SMTP_HOST"] == "mailpit"
    assert str(env["GUICHET_NOTIFY_SMTP_PORT"]) == "1025"


def test_compose_named_volumes_are_declared_and_persist_state() -> None:
    compose = _compose()
    declared = set(compose["volumes"])
    mounts: dict[str, dict[str, str]] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target = (
                (volume["source"], volume["target"])
                if isinstance(volume, dict)
                else tuple(str(volume).split(":")[:2])
            )
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
            mounts.setdefault(name, {})[target] = source
    assert "/data/db" in mounts["mongo"]
    assert "/var/lib/rabbitmq" in mounts["rabbitmq"]
    assert "/usr/share/opensearch/data" in mounts["opensearch"]
    spool = compose["services"]["ingest"]["environment"]["GUICHET_INGEST_SPOOL_DIR"]
    assert mounts["ingest"][spool] in declared


# --- kustomize base -----------------------------------------------------------------------

BASE_OBJECTS = _render_base()


def test_kustomization_lists_the_base_and_an_overridable_image() -> None:
    kustomization = _kustomization()
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    assert {"configmap.yaml", "secret.yaml"} <= set(kustomization["resources"])
    assert any(image["name"] == "guichet" for image in kustomization["images"])
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        for container in _containers(deployment):
            assert container["image"].split(":")[0] == "guichet"


def test_k8s_version_is_one_kubernetes_validate_ships() -> None:
    assert K8S_VERSION in kubernetes_validate.utils.all_versions()


@pytest.mark.parametrize(
    "obj", BASE_OBJECTS, ids=[f"{o['kind']}/{o['metadata']['name']}" for o in BASE_OBJECTS]
)
def test_every_object_is_valid_kubernetes(obj: Obj) -> None:
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = "/".join(str(p) for p in e.absolute_path)
        pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} at {path}: {e.message}")


def test_strict_validation_rejects_an_unknown_field() -> None:
    # Guards against a validation that passes everything (wrong version, lax mode).
    deployment = copy.deepcopy(_of_kind(BASE_OBJECTS, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_each_service_has_a_deployment_and_a_service_running_its_module() -> None:
    deployments = {d["metadata"]["name"]: d for d in _of_kind(BASE_OBJECTS, "Deployment")}
    services = {s["metadata"]["name"]: s for s in _of_kind(BASE_OBJECTS, "Service")}
    assert set(deployments) == {f"guichet-{name}" for name in HTTP_PORTS}
    assert set(services) == set(deployments)
    for name, port in HTTP_PORTS.items():
        (container,) = deployments[f"guichet-{name}"]["spec"]["template"]["spec"]["containers"]
        assert container.get("args") == [f"services.{name}"]
        assert "command" not in container, "the image's `python -m` entrypoint is kept"
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == port
        service_ports = {p["name"]: p["port"] for p in services[f"guichet-{name}"]["spec"]["ports"]}
        expected = {"http": port}
        if name == "ingest":
            expected |= {"smtp": SMTP_PORT, "lmtp": LMTP_PORT}
            assert {ports["smtp"], ports["lmtp"]} == {SMTP_PORT, LMTP_PORT}
        assert service_ports == expected


def test_every_deployment_probes_healthz_and_readyz() -> None:
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            port_names = {p.get("name") for p in container.get("ports", [])}
            port_numbers = {p["containerPort"] for p in container.get("ports", [])}
            for probe_key, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                assert probe_key in container, f"{where}: no {probe_key}"
                http_get = container[probe_key]["httpGet"]
                assert http_get["path"] == path, f"{where}: {probe_key}"
                assert http_get["port"] in port_names | port_numbers, f"{where}: {probe_key}"


def test_every_service_selects_a_deployments_pods() -> None:
    deployments = _of_kind(BASE_OBJECTS, "Deployment")
    for service in _of_kind(BASE_OBJECTS, "Service"):
        selector = service["spec"]["selector"]
        assert selector, service["metadata"]["name"]
        matching = [
            d
            for d in deployments
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, f"{service['metadata']['name']} selects {len(matching)}"
        (deployment,) = matching
        container_ports = {
            p.get("name"): p["containerPort"]
            for c in deployment["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str):
                assert target in container_ports, f"{service['metadata']['name']}: {target}"
            else:
                assert target in container_ports.values()


def test_deployment_selectors_match_their_pod_labels() -> None:
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        match_labels = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert match_labels.items() <= labels.items(), deployment["metadata"]["name"]


def test_every_container_takes_its_env_from_the_base_configmap_and_secret() -> None:
    configmaps = {c["metadata"]["name"] for c in _of_kind(BASE_OBJECTS, "ConfigMap")}
    secrets = {s["metadata"]["name"] for s in _of_kind(BASE_OBJECTS, "Secret")}
    assert configmaps and secrets
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        for container in _containers(deployment):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            env_from = container.get("envFrom", [])
            refs_cm = [e["configMapRef"]["name"] for e in env_from if "configMapRef" in e]
            refs_secret = [e["secretRef"]["name"] for e in env_from if "secretRef" in e]
            assert refs_cm and set(refs_cm) <= configmaps, where
            assert refs_secret and set(refs_secret) <= secrets, where
            for var in container.get("env", []):
                source = var.get("valueFrom", {})
                if "configMapKeyRef" in source:
                    assert source["configMapKeyRef"]["name"] in configmaps, where
                if "secretKeyRef" in source:
                    assert source["secretKeyRef"]["name"] in secrets, where


def test_configmap_and_secret_hold_the_common_settings() -> None:
    (configmap,) = _of_kind(BASE_OBJECTS, "ConfigMap")
    (secret,) = _of_kind(BASE_OBJECTS, "Secret")
    settings = {**configmap["data"], **secret["stringData"]}
    for key in (
        "GUICHET_BROKER_URL",
        "GUICHET_MONGO_URL",
        "GUICHET_OPENSEARCH_URL",
        "GUICHET_HTTP_HOST",
        "GUICHET_ENV",
        "GUICHET_WEB_SECRET_KEY",
        "GUICHET_INGEST_SMTP_HOST",
        "GUICHET_INGEST_SMTP_PORT",
        "GUICHET_INGEST_SPOOL_DIR",
        "GUICHET_NOTIFY_SMTP_HOST",
        "GUICHET_NOTIFY_SMTP_PORT",
    ):
        assert key in settings, key
    assert configmap["data"]["GUICHET_HTTP_HOST"] == ALL_INTERFACES
    assert configmap["data"]["GUICHET_INGEST_SMTP_HOST"] == ALL_INTERFACES
    assert configmap["data"]["GUICHET_INGEST_SMTP_PORT"] == str(SMTP_PORT)
    assert configmap["data"]["GUICHET_INGEST_LMTP_HOST"] == ALL_INTERFACES
    assert configmap["data"]["GUICHET_INGEST_LMTP_PORT"] == str(LMTP_PORT)
    for name, port in HTTP_PORTS.items():
        assert configmap["data"][f"GUICHET_{name.upper()}_HTTP_PORT"] == str(port)
    # The web secret key is a placeholder given as plain text, to be overridden.
    assert "GUICHET_WEB_SECRET_KEY" in secret["stringData"]
    assert "data" not in secret
    assert "OVERRIDE" in (K8S_BASE / "secret.yaml").read_text(encoding="utf-8")


def test_placeholder_web_secret_is_the_one_production_refuses() -> None:
    # Left as is, the base's secret stops web from starting under GUICHET_ENV=production.
    (configmap,) = _of_kind(BASE_OBJECTS, "ConfigMap")
    (secret,) = _of_kind(BASE_OBJECTS, "Secret")
    assert configmap["data"]["GUICHET_ENV"] == "production"
    assert secret["stringData"]["GUICHET_WEB_SECRET_KEY"] == _dev_secret_placeholder()


def test_every_container_is_locked_down_and_sized() -> None:
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in _containers(deployment):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert not security["capabilities"].get("add"), where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert "memory" in resources["limits"], where


def test_ingest_keeps_its_spool_on_a_single_writer_volume() -> None:
    objects = {(o["kind"], o["metadata"]["name"]): o for o in BASE_OBJECTS}
    (configmap,) = _of_kind(BASE_OBJECTS, "ConfigMap")
    ingest = objects[("Deployment", "guichet-ingest")]
    assert ingest["spec"]["replicas"] == 1
    assert ingest["spec"]["strategy"]["type"] == "Recreate"
    pod = ingest["spec"]["template"]["spec"]
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    spool_dir = configmap["data"]["GUICHET_INGEST_SPOOL_DIR"]
    claim = objects[("PersistentVolumeClaim", claims[mounts[spool_dir]])]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    # Every other volume a pod mounts exists in the base or is ephemeral.
    for deployment in _of_kind(BASE_OBJECTS, "Deployment"):
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "persistentVolumeClaim" in volume:
                name = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", name) in objects
            else:
                assert "emptyDir" in volume, volume["name"]
