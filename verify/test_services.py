"""Per service instance: the container, its processes, ports, configuration and health.

One parameter per expected container (`verify.expect.ExpectedContainer`); the
structure checks read Docker (`verify.observe`), the application checks run
inside the container through testinfra (`verify.backend`).
"""

from __future__ import annotations

import json
import re

import pytest

from verify.conftest import APPLICATION, fail_with
from verify.expect import APP_CONFIG, HEALTH_PATH, PROCESS_MARKERS

application = pytest.mark.application


def _observed(expected_container, observation):
    __tracebackhide__ = True
    found = observation.containers.get(expected_container.name)
    if found is None:
        fail_with(expected_container.subject,
                  [f"container {expected_container.name} does not exist on "
                   f"{expected_container.docker_host}"])
    return found


# --------------------------------------------------------------------------- structure


def test_container_runs(expected_container, observation, record):
    c = _observed(expected_container, observation)
    record("container", expected_container.subject, service=expected_container.service,
           site=expected_container.site, suite=expected_container.suite, status=c.status)
    problems = []
    if not c.running:
        problems.append(f"container {c.name} is {c.status}"
                        + (f" (exit code {c.exit_code})" if c.exit_code is not None else "")
                        + ", expected running")
    fail_with(expected_container.subject, problems)


def test_container_image(expected_container, observation, record):
    c = _observed(expected_container, observation)
    wanted = observation.image_id(expected_container.docker_host, expected_container.image)
    record("container", expected_container.subject, service=expected_container.service,
           site=expected_container.site, image=expected_container.image)
    if wanted is None:
        fail_with(expected_container.subject,
                  [f"image {expected_container.image} is missing on "
                   f"{expected_container.docker_host}"])
    if c.image_id != wanted:
        fail_with(expected_container.subject,
                  [f"container {c.name} runs image {c.image_id[:19]}, expected "
                   f"{expected_container.image} ({wanted[:19]})"])


def test_container_labels(expected_container, observation, record):
    c = _observed(expected_container, observation)
    record("container", expected_container.subject, service=expected_container.service,
           site=expected_container.site)
    fail_with(expected_container.subject,
              label_differences(expected_container.labels, c.labels,
                                observation.image_labels.get(c.image_id, {})))


def label_differences(expected: dict[str, str], observed: dict[str, str],
                      inherited: dict[str, str]) -> list[str]:
    """Project labels that differ; labels the image itself carries are not the container's."""
    problems = []
    for key, value in sorted(expected.items()):
        if key not in observed:
            problems.append(f"label {key} is missing, expected {value!r}")
        elif observed[key] != value:
            problems.append(f"label {key} is {observed[key]!r}, expected {value!r}")
    for key in sorted(set(observed) - set(expected)):
        if inherited.get(key) != observed[key]:
            problems.append(f"unexpected label {key}={observed[key]!r}")
    return problems


# --------------------------------------------------------------------------- application


@application
def test_processes(expected_container, ctx, observation, record):
    """The tier's supervisord program is RUNNING and runs the expected process."""
    _observed(expected_container, observation)
    host = ctx.host(expected_container)
    program = expected_container.program
    record("container", expected_container.subject, service=expected_container.service,
           site=expected_container.site, program=program)
    problems = []
    status = host.run("supervisorctl status %s", program)
    fields = status.stdout.split()
    if len(fields) < 2 or fields[0] != program:
        problems.append(f"supervisord has no program {program!r} "
                        f"({(status.stdout or status.stderr).strip()[:120] or 'no answer'})")
    elif fields[1] != "RUNNING":
        problems.append(f"supervisord program {program} is {fields[1]}, expected RUNNING")
    marker = PROCESS_MARKERS[expected_container.tier]
    procs = host.run("ps -eo args=").stdout.splitlines()
    if not any(marker in p for p in procs):
        problems.append(f"no process running {marker!r}")
    fail_with(expected_container.subject, problems)


@application
def test_ports_listen(expected_container, ctx, observation, record):
    _observed(expected_container, observation)
    host = ctx.host(expected_container)
    record("container", expected_container.subject, service=expected_container.service,
           site=expected_container.site, ports=list(expected_container.ports))
    problems = [f"nothing listens on tcp port {port}" for port in expected_container.ports
                if not host.socket(f"tcp://0.0.0.0:{port}").is_listening]
    fail_with(expected_container.subject, problems)


@application
def test_configuration(expected_container, ctx, observation, expectation, record):
    """app.json (app), the nginx vhost (web), postgres' listen settings (db)."""
    _observed(expected_container, observation)
    host = ctx.host(expected_container)
    c = expected_container
    record("container", c.subject, service=c.service, site=c.site)
    if c.tier == "app":
        problems = app_config_problems(c, host.file(APP_CONFIG))
    elif c.tier == "web":
        problems = vhost_problems(c, host, expectation)
    else:
        problems = postgres_problems(c, host)
    fail_with(c.subject, problems)


def app_config_problems(c, config_file) -> list[str]:
    if not config_file.exists:
        return [f"{APP_CONFIG} does not exist"]
    try:
        doc = json.loads(config_file.content_string)
    except ValueError as exc:
        return [f"{APP_CONFIG} is not JSON ({exc})"]
    wanted = {"edition": c.edition, "site": c.site, "suite": c.suite, "service": c.service,
              "role": c.model_service, "version": c.version, "instance": c.instance,
              "venue": c.venue}
    problems = [f"{APP_CONFIG} {key} is {doc.get(key)!r}, expected {value!r}"
                for key, value in wanted.items() if doc.get(key) != value]
    port = (doc.get("listen") or {}).get("port")
    if port != c.ports[0]:
        problems.append(f"{APP_CONFIG} listen.port is {port!r}, expected {c.ports[0]}")
    return problems


def vhost_problems(c, host, expectation) -> list[str]:
    path = f"/etc/nginx/sites-enabled/{c.service}.conf"
    f = host.file(path)
    if not f.exists:
        return [f"nginx vhost {path} does not exist"]
    text = f.content_string
    problems = []
    # The upstream is the app tier on the port of the declared web->app link.
    ports = sorted({link.port for link in expectation.links
                    if link.source == c.service and link.source_tier == "web"
                    and link.target == c.service and link.target_tier == "app"}) or [8080]
    upstream = f"http://{c.service}-app:{ports[0]}"
    if upstream not in text:
        found = re.findall(r"http://[A-Za-z0-9.-]+:\d+", text)
        problems.append(f"nginx vhost {path} proxies to {', '.join(found) or 'nothing'}, "
                        f"expected {upstream}")
    for port in c.ports:
        if not re.search(rf"^\s*listen\s+(\S+:)?{port}\b", text, re.M):
            problems.append(f"nginx vhost {path} does not listen on {port}")
    return problems


def postgres_problems(c, host) -> list[str]:
    sql = "SELECT current_setting('listen_addresses') || ' ' || current_setting('port')"
    out = host.run("su postgres -s /bin/sh -c %s",
                   f'psql -h 127.0.0.1 -At -c "{sql}" 2>/dev/null || psql -At -c "{sql}"')
    if out.rc != 0:
        return [f"postgres does not answer ({(out.stderr or out.stdout).strip()[:160]})"]
    listen, _, port = out.stdout.strip().rpartition(" ")
    problems = []
    if listen not in ("*", "0.0.0.0"):
        problems.append(f"postgres listen_addresses is {listen!r}, expected '*' (the site LAN)")
    if port != str(c.ports[0]):
        problems.append(f"postgres port is {port}, expected {c.ports[0]}")
    return problems


@application
def test_health(expected_container, ctx, observation, record):
    """GET /health answers 200 with the declared version (app and web); db: the database."""
    _observed(expected_container, observation)
    c = expected_container
    host = ctx.host(c)
    if c.tier == "db":
        db = c.service.replace("-", "_")
        out = host.run("su postgres -s /bin/sh -c %s",
                       f"psql -At -c \"SELECT count(*) FROM pg_database WHERE datname='{db}'\"")
        record("health", c.subject, service=c.service, site=c.site, database=db)
        if out.rc != 0 or out.stdout.strip() != "1":
            fail_with(c.subject, [f"database {db} is missing or postgres does not answer "
                                  f"({(out.stderr or out.stdout).strip()[:160]})"])
        return
    port = c.ports[0]
    script = ("import json,sys,urllib.request\n"
              "try:\n"
              f" r=urllib.request.urlopen('http://127.0.0.1:{port}{HEALTH_PATH}',timeout=5)\n"
              " print(r.status); print(r.read().decode())\n"
              "except urllib.error.HTTPError as e:\n"
              " print(e.code); print(e.read().decode())\n"
              "except Exception as e:\n"
              " print(0); print(e)\n")
    out = host.run("python3 -c %s", script)
    status, _, body = out.stdout.partition("\n")
    record("health", c.subject, service=c.service, site=c.site, status=status.strip())
    problems = []
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    if status.strip() != "200":
        problems.append(f"GET {HEALTH_PATH} on port {port} answered {status.strip() or 'nothing'}"
                        f" ({body.strip()[:160]})")
    if doc.get("version") != c.version:
        problems.append(f"{HEALTH_PATH} reports version {doc.get('version')!r}, "
                        f"expected {c.version!r}")
    if doc and doc.get("service") not in (None, c.service):
        problems.append(f"{HEALTH_PATH} reports service {doc.get('service')!r}, "
                        f"expected {c.service!r}")
    fail_with(c.subject, problems)


_ = APPLICATION  # the marker's name, registered in conftest
