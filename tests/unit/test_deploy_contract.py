"""The production path (Dockerfile, docker-compose.yml, deploy/) stays true to the code.

Docker cannot run where the tests run, so these tests read the files and hold every name
in them against the code: service modules and their ports, CLI subcommands, settings,
topics, metrics. Each `*_problems` function returns what is wrong; the tests at the end
show that each of them notices a typical mistake.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import importlib
import importlib.util
import io
import json
import os
from contextlib import contextmanager
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

import services
from estatedesk.cli import main as cli_main
from estatedesk.config import DEV_SECRET, Settings
from estatedesk.contracts import TOPICS
from estatedesk.contracts.topology import CONSUMERS, PRODUCER

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS_VARS = frozenset(name.upper() for name in Settings.model_fields)
SERVICES = frozenset(
    m.name for m in pkgutil.iter_modules(services.__path__)
    if m.ispkg and importlib.util.find_spec(f"services.{m.name}.__main__") is not None
)
SETUP_COMMANDS = frozenset({"migrate", "topics"})
# Production leaves restarting a dead part to its orchestrator (`make dev` supervises its own).
RESTARTS = frozenset({"always", "unless-stopped", "on-failure"})


# --- reading the files -------------------------------------------------------------------

def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def load_k8s() -> list[dict]:
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.y*ml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def load_topics() -> dict:
    return yaml.safe_load((DEPLOY / "topics.yaml").read_text())


def load_prometheus() -> dict:
    return yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())


def load_dashboard() -> dict:
    return json.loads((DEPLOY / "grafana" / "estatedesk-dashboard.json").read_text())


# --- helpers -----------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: Any) -> str:
    """Compose's `${VAR:-default}` becomes the default, a required `${VAR:?msg}` a stand-in."""
    def replace(m: re.Match) -> str:
        return m.group(3) if m.group(2) in (":-", "-") else "set-by-operator"
    return _INTERPOLATION.sub(replace, str(value))


def unknown_variables(env: Mapping[str, Any]) -> set[str]:
    """Variable names that no field of `Settings` reads (Settings ignores them silently)."""
    return set(env) - SETTINGS_VARS


@contextmanager
def exact_environment(env: Mapping[str, Any]):
    """Run with exactly these environment variables, then restore the real ones."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def settings_from(env: Mapping[str, Any]) -> Settings:
    """The `Settings` a process sees with exactly this environment."""
    with exact_environment(env):
        return Settings()


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def service_of(command: list[str]) -> str | None:
    """`python -m services.X` -> X."""
    if len(command) == 3 and command[:2] == ["python", "-m"] and command[2].startswith("services."):
        return command[2].removeprefix("services.")
    return None


def cli_subcommand(command: list[str]) -> str | None:
    """`estatedesk SUB ...` -> SUB."""
    if len(command) >= 2 and command[0] == "estatedesk":
        return command[1]
    return None


@lru_cache
def is_subcommand(name: str) -> bool:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_main([name, "--help"])
        except SystemExit as exc:
            return exc.code == 0
    return False


def as_command(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value or []]


def service_problems(where: str, service: str, settings: Settings) -> list[str]:
    if not module_exists(f"services.{service}.__main__"):
        return [f"{where}: runs services.{service}, which is not a service module"]
    if settings.estatedesk_host not in ("0.0.0.0", "::"):
        return [f"{where}: listens on {settings.estatedesk_host}, unreachable from outside its container"]
    return []


def setup_command_problems(where: str, command: list[str]) -> list[str]:
    sub = cli_subcommand(command)
    if sub is None:
        return [f"{where}: runs {command}, neither a service nor an estatedesk command"]
    if not is_subcommand(sub):
        return [f"{where}: `estatedesk {sub}` is not a subcommand"]
    return []


def env_problems(where: str, env: Mapping[str, Any]) -> tuple[list[str], Settings | None]:
    problems = [f"{where}: {var} is not a setting" for var in sorted(unknown_variables(env))]
    try:
        return problems, settings_from(env)
    except ValidationError as exc:
        return problems + [f"{where}: invalid settings: {exc}"], None


# --- docker-compose.yml ------------------------------------------------------------------

def compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports", []):
        target = entry["target"] if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1].split("/")[0]
        ports.add(int(target))
    return ports


def healthcheck_url(service: dict) -> tuple[int, str] | None:
    test = " ".join(as_command((service.get("healthcheck") or {}).get("test")))
    m = re.search(r"http://[^/:'\"\s]+:(\d+)(/[\w/]*)", test)
    return (int(m.group(1)), m.group(2)) if m else None


def compose_problems(compose: dict) -> list[str]:
    services_ = compose.get("services", {})
    ours = {name: svc for name, svc in services_.items() if "build" in svc}
    problems: list[str] = []
    running: set[str] = set()
    for name, svc in ours.items():
        where = f"compose {name}"
        env = compose_env(svc)
        found, settings = env_problems(where, env)
        problems += found
        if settings is None:
            continue
        command = as_command(svc.get("command"))
        service = service_of(command)
        if service is None:
            problems += setup_command_problems(where, command)
            continue
        running.add(service)
        if svc.get("restart") not in RESTARTS:
            problems.append(f"{where}: restart {svc.get('restart')!r}: production relies on compose to restart it")
        found = service_problems(where, service, settings)
        problems += found
        if found:
            continue
        port = settings.service_port(service)
        if container_ports(svc) != {port}:
            problems.append(f"{where}: publishes {sorted(container_ports(svc))}, the service listens on {port}")
        if healthcheck_url(svc) != (port, "/readyz"):
            problems.append(f"{where}: healthcheck {healthcheck_url(svc)} is not /readyz on port {port}")
        depends = svc.get("depends_on") or {}
        for setup in SETUP_COMMANDS:
            condition = depends.get(setup, {}).get("condition") if isinstance(depends, dict) else None
            if condition != "service_completed_successfully":
                problems.append(f"{where}: does not wait for {setup} to complete successfully")
    problems += [f"compose: no service runs services.{s}" for s in sorted(SERVICES - running)]
    setup_runs = {cli_subcommand(as_command(s.get("command"))) for s in ours.values()}
    problems += [f"compose: nothing runs `estatedesk {s}`" for s in sorted(SETUP_COMMANDS - setup_runs)]
    problems += [f"compose {name}: restart {services_[name].get('restart')!r}: nothing restarts it"
                 for name in ("kafka", "postgres") if name in services_ and services_[name].get("restart") not in RESTARTS]
    problems += kafka_problems(services_, [compose_env(s) for s in ours.values()])
    problems += postgres_problems(services_, [compose_env(s) for s in ours.values()])
    return problems


def kafka_problems(services_: dict, envs: list[dict]) -> list[str]:
    problems = []
    if "zookeeper" in yaml.safe_dump(services_).lower():
        problems.append("compose: mentions ZooKeeper; Kafka must run in KRaft mode")
    brokers = {n: s for n, s in services_.items() if str(s.get("image", "")).startswith("apache/kafka:")}
    if len(brokers) != 1:
        return problems + [f"compose: expected one apache/kafka service, found {sorted(brokers)}"]
    (name, broker), = brokers.items()
    env = compose_env(broker)
    roles = set(env.get("KAFKA_PROCESS_ROLES", "").split(","))
    if roles != {"broker", "controller"}:
        problems.append(f"compose {name}: KAFKA_PROCESS_ROLES is {sorted(roles)}, not broker,controller (KRaft)")
    for var in ("KAFKA_NODE_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_CONTROLLER_LISTENER_NAMES"):
        if var not in env:
            problems.append(f"compose {name}: {var} missing for KRaft")
    if env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "").lower() != "false":
        problems.append(f"compose {name}: topics must not be auto-created")
    advertised = {urlsplit(l).netloc for l in env.get("KAFKA_ADVERTISED_LISTENERS", "").split(",") if l}
    for service_env in envs:
        for server in filter(None, service_env.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")):
            if server not in advertised:
                problems.append(f"compose: bootstrap server {server} is not advertised by {name} ({sorted(advertised)})")
    return problems


def postgres_problems(services_: dict, envs: list[dict]) -> list[str]:
    problems = []
    for env in envs:
        url = urlsplit(env.get("DATABASE_URL", ""))
        db = services_.get(url.hostname or "")
        if db is None or not str(db.get("image", "")).startswith("postgres:"):
            problems.append(f"compose: DATABASE_URL host {url.hostname!r} is not a postgres service")
            continue
        db_env = compose_env(db)
        if (url.username, url.path.lstrip("/")) != (db_env.get("POSTGRES_USER"), db_env.get("POSTGRES_DB")):
            problems.append("compose: DATABASE_URL user/database differ from the postgres service's")
        if "healthcheck" not in db:
            problems.append("compose: postgres has no healthcheck to wait for")
    return problems


# --- Kubernetes manifests ----------------------------------------------------------------

def _named(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def secret_data(secret: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return {**data, **(secret.get("stringData") or {})}


def resolve_port(port: Any, named: dict[str, int]) -> int | None:
    return named.get(port) if isinstance(port, str) else port


def k8s_problems(docs: list[dict]) -> list[str]:
    problems: list[str] = []
    namespaces = set(_named(docs, "Namespace"))
    if len(namespaces) != 1:
        problems.append(f"k8s: expected one Namespace, found {sorted(namespaces)}")
    for d in docs:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") not in namespaces:
            problems.append(f"k8s {d['kind']} {d['metadata']['name']}: not in the namespace {sorted(namespaces)}")
    configmaps = {n: d.get("data") or {} for n, d in _named(docs, "ConfigMap").items()}
    secrets = {n: secret_data(d) for n, d in _named(docs, "Secret").items()}
    for kind, sources in (("ConfigMap", configmaps), ("Secret", secrets)):
        for name, data in sources.items():
            problems += [f"k8s {kind} {name}: {v} is not a setting" for v in sorted(unknown_variables(data))]
    for name, secret in secrets.items():
        if secret.get("ESTATEDESK_SECRET") == DEV_SECRET:
            problems.append(f"k8s Secret {name}: carries the development secret")

    k8s_services = _named(docs, "Service")
    deployed: set[str] = set()
    for kind in ("Deployment", "Job"):
        for name, workload in _named(docs, kind).items():
            pod = workload["spec"]["template"]
            if kind == "Deployment":
                selector = workload["spec"]["selector"]["matchLabels"]
                if not selector.items() <= pod["metadata"].get("labels", {}).items():
                    problems.append(f"k8s Deployment {name}: selector does not match its pod labels")
            if not (pod["spec"].get("securityContext") or {}).get("runAsNonRoot"):
                problems.append(f"k8s {kind} {name}: pods may run as root")
            for container in pod["spec"]["containers"]:
                where = f"k8s {kind} {name}/{container['name']}"
                env: dict[str, str] = {}
                for source in container.get("envFrom", []):
                    for ref_kind, known in (("configMapRef", configmaps), ("secretRef", secrets)):
                        if ref_kind in source:
                            ref = source[ref_kind]["name"]
                            if ref not in known:
                                problems.append(f"{where}: {ref_kind} {ref} does not exist")
                            env.update(known.get(ref, {}))
                env.update({e["name"]: e.get("value", "set-by-reference") for e in container.get("env", [])})
                found, settings = env_problems(where, env)
                problems += found
                if settings is None:
                    continue
                command = as_command(container.get("command", []) + container.get("args", []))
                service = service_of(command)
                if kind == "Job" or service is None:
                    if service is not None:
                        problems.append(f"{where}: a Job runs a long-lived service")
                    problems += setup_command_problems(where, command)
                    continue
                deployed.add(service)
                found = service_problems(where, service, settings)
                problems += found
                if not found:
                    problems += deployment_port_problems(where, service, settings, container, pod, k8s_services)
                if pod["spec"].get("restartPolicy", "Always") != "Always":
                    problems.append(f"{where}: restartPolicy {pod['spec']['restartPolicy']}: a dead service stays dead")
    problems += [f"k8s: no Deployment runs services.{s}" for s in sorted(SERVICES - deployed)]
    jobs = {cli_subcommand(as_command(c.get("command", []) + c.get("args", [])))
            for j in _named(docs, "Job").values() for c in j["spec"]["template"]["spec"]["containers"]}
    problems += [f"k8s: no Job runs `estatedesk {s}`" for s in sorted(SETUP_COMMANDS - jobs)]
    return problems


def deployment_port_problems(where: str, service: str, settings: Settings, container: dict,
                             pod: dict, k8s_services: dict[str, dict]) -> list[str]:
    problems = []
    port = settings.service_port(service)
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    declared = {p["containerPort"] for p in container.get("ports", [])}
    if declared != {port}:
        problems.append(f"{where}: declares ports {sorted(declared)}, the service listens on {port}")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = (container.get(probe) or {}).get("httpGet") or {}
        if (get.get("path"), resolve_port(get.get("port"), named)) != (path, port):
            problems.append(f"{where}: {probe} is not GET {path} on port {port}")
    labels = pod["metadata"].get("labels", {})
    fronting = [s for s in k8s_services.values() if s["spec"].get("selector", {}).items() <= labels.items()]
    if not fronting:
        problems.append(f"{where}: no Service selects these pods")
    for svc in fronting:
        for p in svc["spec"]["ports"]:
            if resolve_port(p.get("targetPort", p["port"]), named) != port:
                problems.append(f"{where}: Service {svc['metadata']['name']} targets {p.get('targetPort')}, not {port}")
    return problems


def configmap_env(docs: list[dict]) -> dict[str, str]:
    env: dict[str, str] = {}
    for data in (d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"):
        env.update(data)
    return env


# --- topics, Prometheus, Grafana ---------------------------------------------------------

def topics_problems(topics: dict, config_env: Mapping[str, str]) -> list[str]:
    problems = []
    names = [t["name"] for t in topics.get("topics", [])]
    if sorted(names) != sorted(TOPICS):
        problems.append(f"topics.yaml: {names} are not the contract topics {list(TOPICS)}")
    if topics.get("key") != "case_id":
        problems.append("topics.yaml: messages must be keyed by case_id")
    settings = settings_from(config_env)
    for t in topics.get("topics", []):
        where = f"topics.yaml {t['name']}"
        if t.get("producer") != PRODUCER.get(t["name"]):
            problems.append(f"{where}: producer {t.get('producer')}, the services' table says {PRODUCER.get(t['name'])}")
        if sorted(t.get("consumers") or []) != sorted(CONSUMERS.get(t["name"], ())):
            problems.append(f"{where}: consumers {t.get('consumers')}, the services subscribe "
                            f"{list(CONSUMERS.get(t['name'], ()))}")
        if t.get("partitions") != settings.estatedesk_topic_partitions:
            problems.append(f"{where}: {t.get('partitions')} partitions, the ConfigMap creates "
                            f"{settings.estatedesk_topic_partitions}")
        replication = t.get("replicationFactor")
        if replication != settings.estatedesk_topic_replication:
            problems.append(f"{where}: replication {replication}, the ConfigMap creates "
                            f"{settings.estatedesk_topic_replication}")
        config = t.get("config") or {}
        min_isr = int(config.get("min.insync.replicas", 1))
        if not 1 < min_isr < (replication or 0):
            problems.append(f"{where}: min.insync.replicas {min_isr} must be >1 and below replication {replication}")
        if "retention.ms" not in config:
            problems.append(f"{where}: retention.ms is not stated")
    return problems


def _label_name(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def scraped_services(job: dict, docs: list[dict]) -> set[str]:
    """The k8s Services whose endpoints a kubernetes_sd `endpoints` job keeps."""
    namespaces = set()
    for sd in job.get("kubernetes_sd_configs", []):
        if sd.get("role") == "endpoints":
            namespaces |= set((sd.get("namespaces") or {}).get("names", []))
    kept = set()
    for svc in (d for d in docs if d.get("kind") == "Service"):
        meta = svc["metadata"]
        if meta.get("namespace") not in namespaces:
            continue
        for port in svc["spec"]["ports"]:
            labels = {
                "__meta_kubernetes_namespace": meta.get("namespace"),
                "__meta_kubernetes_service_name": meta["name"],
                "__meta_kubernetes_endpoint_port_name": port.get("name", ""),
                **{f"__meta_kubernetes_service_label_{_label_name(k)}": v
                   for k, v in meta.get("labels", {}).items()},
            }
            keep = True
            for rule in job.get("relabel_configs", []):
                if rule.get("action") not in ("keep", "drop"):
                    continue
                value = rule.get("separator", ";").join(labels.get(l, "") for l in rule["source_labels"])
                matched = re.fullmatch(rule.get("regex", "(.*)"), value) is not None
                keep = keep and (matched if rule["action"] == "keep" else not matched)
            if keep:
                kept.add(meta["name"])
    return kept


def prometheus_problems(prometheus: dict, docs: list[dict]) -> list[str]:
    problems = []
    scraped: set[str] = set()
    for job in prometheus.get("scrape_configs", []):
        if job.get("metrics_path", "/metrics") != "/metrics":
            problems.append(f"prometheus {job['job_name']}: scrapes {job['metrics_path']}, not /metrics")
        scraped |= scraped_services(job, docs)
        for static in job.get("static_configs", []):
            scraped |= {t.split(":")[0] for t in static.get("targets", [])}
    if scraped != SERVICES:
        problems.append(f"prometheus: scrapes {sorted(scraped)}, the services are {sorted(SERVICES)}")
    return problems


@lru_cache
def exported_metrics() -> frozenset[str]:
    """Sample names each service's /metrics exposes (apps built, not started)."""
    names = set()
    for service in SERVICES:
        factory = importlib.import_module(f"services.{service}.app").create_app
        with exact_environment({}):
            app = factory(Settings())
        body = asyncio.run(_get(app, "/metrics"))
        names |= {s.name for family in text_string_to_metric_families(body) for s in family.samples}
    return frozenset(names)


async def _get(app, path: str) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        response = await client.get(path)
        response.raise_for_status()
        return response.text


def dashboard_panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels += panel.get("panels", [])
    return panels


def dashboard_problems(dashboard: dict, metrics: frozenset[str], jobs: set[str]) -> list[str]:
    problems = []
    for panel in (p for p in dashboard_panels(dashboard) if p.get("type") != "row"):
        exprs = [t.get("expr", "") for t in panel.get("targets", [])]
        if not any(exprs):
            problems.append(f"dashboard {panel.get('title')!r}: no query")
        for expr in exprs:
            for metric in set(re.findall(r"\bestatedesk_[a-z0-9_]+", expr)) - metrics:
                problems.append(f"dashboard {panel.get('title')!r}: {metric} is not exported by any service")
            for job in set(re.findall(r'job\s*=\s*"([^"]+)"', expr)) - jobs:
                problems.append(f"dashboard {panel.get('title')!r}: no Prometheus job {job!r}")
    return problems


# --- Dockerfile and packaging ------------------------------------------------------------

def dockerfile_problems(text: str) -> list[str]:
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instructions = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l.strip() else "")
                    for l in (l.strip() for l in lines) if l and not l.startswith("#")]
    problems = []
    froms = [arg for op, arg in instructions if op == "FROM"]
    if not froms or not froms[-1].startswith("python:3.11-slim"):
        problems.append(f"Dockerfile: final stage is {froms[-1:] or 'missing'}, not python:3.11-slim")
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    if not re.search(r"pip install \.(\s|$|&)", runs):
        problems.append("Dockerfile: does not `pip install .`")
    if re.search(r"pip install [^&;]*\.\[", runs):
        problems.append("Dockerfile: installs extras (the embedded stack does not belong in the image)")
    users = [arg.split(":")[0] for op, arg in instructions if op == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append("Dockerfile: runs as root")
    copied = set()
    for op, arg in instructions:
        if op == "COPY" and not arg.startswith("--from"):
            copied |= {Path(p).name for p in shlex.split(arg)[:-1] if not p.startswith("--")}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = {"pyproject.toml"} | {pattern.rstrip("*") for pattern in includes}
    problems += [f"Dockerfile: does not copy {n}" for n in sorted(needed - copied)]
    cmd = [arg for op, arg in instructions if op == "CMD"]
    command = json.loads(cmd[-1]) if cmd else []
    if service_of(command) != "intake" or not module_exists("services.intake.__main__"):
        problems.append(f"Dockerfile: CMD {command} is not python -m services.intake")
    return problems


def packaged_files(workdir: Path) -> set[str]:
    """Files a non-editable install (`pip install .`) puts into site-packages."""
    src, lib = workdir / "src", workdir / "lib"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    for package in ("estatedesk", "services"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                    "build_py", "--build-lib", str(lib)],
                   cwd=src, check=True, capture_output=True, text=True)
    return {p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file()}


# --- the tests ---------------------------------------------------------------------------

def test_compose_is_true_to_the_code():
    assert compose_problems(load_compose()) == []


def test_compose_tunes_consumers_for_kafka_not_tansu():
    for name, svc in load_compose()["services"].items():
        if service_of(as_command(svc.get("command"))):
            settings = settings_from(compose_env(svc))
            assert (settings.estatedesk_fetch_max_wait_ms, settings.estatedesk_session_timeout_s) == (100, 10), name
            assert svc["environment"]["ESTATEDESK_SECRET"] == "${ESTATEDESK_SECRET:?set a secret}", name


def test_kubernetes_manifests_are_true_to_the_code():
    assert k8s_problems(load_k8s()) == []


def test_kubernetes_tunes_consumers_for_kafka_not_tansu():
    settings = settings_from(configmap_env(load_k8s()))
    assert (settings.estatedesk_fetch_max_wait_ms, settings.estatedesk_session_timeout_s) == (100, 10)


def test_topics_are_the_contract_topics():
    assert topics_problems(load_topics(), configmap_env(load_k8s())) == []


def test_prometheus_scrapes_every_service():
    assert prometheus_problems(load_prometheus(), load_k8s()) == []


def test_dashboard_queries_exported_metrics():
    jobs = {job["job_name"] for job in load_prometheus()["scrape_configs"]}
    assert dashboard_problems(load_dashboard(), exported_metrics(), jobs) == []


def test_dockerfile_installs_and_runs_the_project():
    assert dockerfile_problems((ROOT / "Dockerfile").read_text()) == []


def test_installed_package_carries_its_data_files(tmp_path):
    """`pip install .` (the image) must ship every non-Python file the code reads, e.g.
    the SQL migrations `estatedesk migrate` applies."""
    data_files = {p.relative_to(ROOT).as_posix() for package in ("estatedesk", "services")
                  for p in (ROOT / package).rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert data_files, "expected the SQL migrations at least"
    assert sorted(data_files - packaged_files(tmp_path)) == []


def console_url_problems(where: str, env: Mapping[str, str], runs: Callable[[str], str | None]) -> list[str]:
    """The console's CONSOLE_INTAKE_URL / CONSOLE_ANALYTICS_URL must reach those services:
    `runs(host)` names the service a host runs (compose service or k8s Service)."""
    problems = []
    settings = settings_from(env)
    for target in ("intake", "analytics"):
        url = urlsplit(settings.service_url(target))
        host = (url.hostname or "").split(".")[0]
        if runs(host) != target:
            problems.append(f"{where}: CONSOLE_{target.upper()}_URL host {url.hostname!r} does not run {target}")
        elif url.port != settings.service_port(target):
            problems.append(f"{where}: CONSOLE_{target.upper()}_URL port {url.port} is not {target}'s")
    return problems


def compose_console_problems(compose: dict) -> list[str]:
    services_ = compose["services"]
    console = next((s for s in services_.values() if service_of(as_command(s.get("command"))) == "console"), None)
    if console is None:
        return ["compose: no console"]
    return console_url_problems("compose console", compose_env(console),
                                lambda host: service_of(as_command(services_.get(host, {}).get("command"))))


def k8s_console_problems(docs: list[dict]) -> list[str]:
    deployments = _named(docs, "Deployment")
    console = deployments.get("console")
    if console is None:
        return ["k8s: no console Deployment"]
    container = console["spec"]["template"]["spec"]["containers"][0]
    env = {**configmap_env(docs), **{e["name"]: e.get("value", "") for e in container.get("env", [])}}

    def runs(host: str) -> str | None:
        svc = _named(docs, "Service").get(host)
        if svc is None:
            return None
        for deployment in deployments.values():
            pod = deployment["spec"]["template"]
            if svc["spec"].get("selector", {}).items() <= pod["metadata"].get("labels", {}).items():
                return service_of(as_command(pod["spec"]["containers"][0].get("command")))
        return None

    return console_url_problems("k8s console", env, runs)


def test_console_reaches_intake_and_analytics():
    assert compose_console_problems(load_compose()) == []
    assert k8s_console_problems(load_k8s()) == []


def test_console_url_check_notices():
    compose = copy.deepcopy(load_compose())
    compose["services"]["console"]["environment"]["CONSOLE_INTAKE_URL"] = "http://analytics:8004"
    assert compose_console_problems(compose) != []
    docs = copy.deepcopy(load_k8s())
    _container(docs, "Deployment", "console")["env"][1]["value"] = "http://analytics.estatedesk.svc:8001"
    assert k8s_console_problems(docs) != []


# --- the checks notice mistakes ----------------------------------------------------------

def test_helpers_reject_wrong_names():
    assert unknown_variables({"DATABASE_URL": "x", "KAFKA_BOOTSTRAP_SERVER": "y"}) == {"KAFKA_BOOTSTRAP_SERVER"}
    assert is_subcommand("migrate") and is_subcommand("topics")
    assert not is_subcommand("migrations")
    assert not module_exists("services.intak.__main__")
    assert settings_from({"INTAKE_PORT": "9001"}).service_port("intake") == 9001
    assert interpolate("${ESTATEDESK_TOPIC_PARTITIONS:-12}") == "12"


def _compose_service(compose: dict, name: str) -> dict:
    return compose["services"][name]


def _rename_env(svc: dict, old: str, new: str) -> None:
    env = dict(svc["environment"])
    env[new] = env.pop(old)
    svc["environment"] = env


COMPOSE_MISTAKES: dict[str, Callable[[dict], None]] = {
    "misspelt variable": lambda c: _rename_env(_compose_service(c, "sla"), "KAFKA_BOOTSTRAP_SERVERS",
                                               "KAFKA_BOOTSTRAP_SERVER"),
    "unknown module": lambda c: _compose_service(c, "intake").update(command=["python", "-m", "services.intak"]),
    "wrong port": lambda c: _compose_service(c, "dispatch").update(ports=["8012:8012"]),
    "port variable moved": lambda c: _compose_service(c, "analytics").update(
        environment={**_compose_service(c, "analytics")["environment"], "ANALYTICS_PORT": "9004"}),
    "unknown subcommand": lambda c: _compose_service(c, "migrate").update(command=["estatedesk", "migrations"]),
    "bad value": lambda c: _compose_service(c, "topics").update(
        environment={**_compose_service(c, "topics")["environment"], "ESTATEDESK_TOPIC_PARTITIONS": "twelve"}),
    "zookeeper": lambda c: c["services"].update(zookeeper={"image": "zookeeper:3.9"}),
    "no KRaft roles": lambda c: _compose_service(c, "kafka")["environment"].pop("KAFKA_PROCESS_ROLES"),
    "listens on loopback": lambda c: _compose_service(c, "sla").update(
        environment={**_compose_service(c, "sla")["environment"], "ESTATEDESK_HOST": "127.0.0.1"}),
    "service missing": lambda c: c["services"].pop("analytics"),
    "service not restarted": lambda c: _compose_service(c, "dispatch").update(restart="no"),
    "broker not restarted": lambda c: _compose_service(c, "kafka").pop("restart"),
}


@pytest.mark.parametrize("mistake", COMPOSE_MISTAKES)
def test_compose_check_notices(mistake):
    compose = copy.deepcopy(load_compose())
    COMPOSE_MISTAKES[mistake](compose)
    assert compose_problems(compose) != []


def _k8s(docs: list[dict], kind: str, name: str) -> dict:
    return _named(docs, kind)[name]


def _container(docs: list[dict], kind: str, name: str) -> dict:
    return _k8s(docs, kind, name)["spec"]["template"]["spec"]["containers"][0]


K8S_MISTAKES: dict[str, Callable[[list[dict]], None]] = {
    "misspelt variable": lambda d: _k8s(d, "ConfigMap", "estatedesk-config")["data"].update(
        ESTATEDESK_FETCH_MAX_WAIT="100"),
    "misspelt secret": lambda d: _k8s(d, "Secret", "estatedesk-secrets")["stringData"].update(DATABASE_UR="x"),
    "wrong readiness path": lambda d: _container(d, "Deployment", "intake")["readinessProbe"]["httpGet"].update(
        path="/ready"),
    "wrong container port": lambda d: _container(d, "Deployment", "sla")["ports"][0].update(containerPort=8033),
    "unknown subcommand": lambda d: _container(d, "Job", "estatedesk-topics").update(
        command=["estatedesk", "topic"]),
    "missing configmap": lambda d: _container(d, "Deployment", "dispatch")["envFrom"][0]["configMapRef"].update(
        name="estatedesk-cfg"),
    "no liveness probe": lambda d: _container(d, "Deployment", "sla").pop("livenessProbe"),
    "never restarted": lambda d: _k8s(d, "Deployment", "analytics")["spec"]["template"]["spec"].update(
        restartPolicy="Never"),
}


@pytest.mark.parametrize("mistake", K8S_MISTAKES)
def test_kubernetes_check_notices(mistake):
    docs = copy.deepcopy(load_k8s())
    K8S_MISTAKES[mistake](docs)
    assert k8s_problems(docs) != []


def test_topics_check_notices():
    topics = copy.deepcopy(load_topics())
    topics["topics"][-1]["name"] = "billing-event"
    assert topics_problems(topics, configmap_env(load_k8s())) != []
    topics = copy.deepcopy(load_topics())
    topics["topics"][0]["partitions"] = 6
    assert topics_problems(topics, configmap_env(load_k8s())) != []
    topics = copy.deepcopy(load_topics())
    topics["topics"][2]["consumers"].remove("console")
    assert topics_problems(topics, configmap_env(load_k8s())) != []


def test_dashboard_and_prometheus_checks_notice():
    dashboard = copy.deepcopy(load_dashboard())
    dashboard["panels"][-1]["targets"][0]["expr"] = "sum(rate(estatedesk_escalations_fired_total[5m]))"
    assert dashboard_problems(dashboard, exported_metrics(), {"estatedesk"}) != []
    docs = copy.deepcopy(load_k8s())
    _k8s(docs, "Service", "sla")["spec"]["ports"][0]["name"] = "web"
    assert prometheus_problems(load_prometheus(), docs) != []


def test_dockerfile_check_notices():
    text = (ROOT / "Dockerfile").read_text()
    assert dockerfile_problems(text.replace("pip install .", "pip install '.[embedded]'")) != []
    assert dockerfile_problems(text.replace("USER 10001:10001", "")) != []
    assert dockerfile_problems(text.replace("COPY services ./services\n", "")) != []


def test_topic_repairs_create_the_missing_and_grow_the_short_but_never_shrink():
    from estatedesk.messaging.kafka import repairs_needed

    missing, short = repairs_needed({"case-events": 1, "dispatch-events": 3, "sla-events": 4}, partitions=3)
    assert missing == ["billing-events"]
    assert short == {"case-events": (1, 3)}
    assert repairs_needed({t: 3 for t in TOPICS}, partitions=3) == ([], {})
