"""Per service instance: the container, its processes, ports, configuration and health.

One parameter per expected container (`verify.expect.ExpectedContainer`); the
structure checks read Docker (`verify.observe`), the application checks run
inside the container through testinfra (`verify.backend`).
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from verify.conftest import APPLICATION, fail_with
from verify.expect import APP_CONFIG, HEALTH_PATH, PROCESS_MARKERS, PROCESS_USERS

application = pytest.mark.application
# With xdist, the application checks stay on one worker (their findings are gathered
# once, in parallel threads); the probes take the other.
APP_GROUP = pytest.mark.xdist_group("app")


def _observed(expected_container, observation):
    __tracebackhide__ = True
    found = observation.containers.get(expected_container.name)
    if found is None:
        fail_with(expected_container.subject,
                  [(f"container {expected_container.name} does not exist on "
                   f"{expected_container.docker_host}")])
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
                  [(f"image {expected_container.image} is missing on "
                   f"{expected_container.docker_host}")])
    if c.image_id != wanted:
        fail_with(expected_container.subject,
                  [(f"container {c.name} runs image {c.image_id[:19]}, expected "
                   f"{expected_container.image} ({wanted[:19]})")])


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


# --------------------------------------------------------------------------- application
#
# Each application check is a function (container, host, expectation) -> (problems, data)
# using testinfra's modules. `app_findings` runs all of them for every container at
# once, in threads (the `docker exec`s overlap instead of queueing), the first time an
# application test needs them; each test then asserts its own part and records what
# it found and what it cost.


def processes_check(c, host, expectation):
    """The tier's process runs as a child of supervisord, as its user, from its program."""
    program, marker, user = c.program, PROCESS_MARKERS[c.tier], PROCESS_USERS[c.tier]
    supervisord = host.process.filter(comm="supervisord")
    if not supervisord:
        return ["supervisord is not running"], {"program": program}
    problems = []
    children = host.process.filter(ppid=supervisord[0].pid, user=user)
    running = [p for p in children if marker in p.args]
    if not running:
        # Say why: supervisord's view of the program, and who else runs it.
        others = [f"{p.args[:60]!r}" for p in host.process.filter(ppid=supervisord[0].pid)
                  if marker in p.args]
        try:
            state = host.supervisor(program).status
        except (RuntimeError, AssertionError, IndexError):
            state = "unknown to supervisord"
        problems.append(f"no process {marker!r} runs as {user} under supervisord "
                        f"(program {program}: {state})"
                        + (f"; runs as another user: {', '.join(others)}" if others else ""))
    declared = host.run("grep -ls %s /etc/supervisor/conf.d/*.conf",
                        f"^\\[program:{program}\\]")
    if declared.rc != 0:
        problems.append(f"supervisord has no program {program!r} in /etc/supervisor/conf.d")
    return problems, {"program": program, "pids": [p.pid for p in running]}


def ports_check(c, host, expectation):
    listening = {port: host.socket(f"tcp://0.0.0.0:{port}").is_listening for port in c.ports}
    return ([f"nothing listens on tcp port {port}" for port, ok in listening.items() if not ok],
            {"ports": list(c.ports)})


def configuration_check(c, host, expectation):
    """app.json (app), the nginx vhost (web), postgres' listen settings (db)."""
    if c.tier == "app":
        return app_config_problems(c, read_file(host, APP_CONFIG)), {"file": APP_CONFIG}
    if c.tier == "web":
        return vhost_problems(c, host, expectation), {
            "file": f"/etc/nginx/sites-enabled/{c.service}.conf"}
    return postgres_problems(c, host), {"settings": ["listen_addresses", "port"]}


def health_check(c, host, expectation):
    """GET /health answers 200 with the declared version (app and web); db: its database."""
    if c.tier == "db":
        db = c.service.replace("-", "_")
        out = host.run("su postgres -s /bin/sh -c %s",
                       f"psql -At -c \"SELECT count(*) FROM pg_database WHERE datname='{db}'\"")
        if out.rc != 0 or out.stdout.strip() != "1":
            return [(f"database {db} is missing or postgres does not answer "
                     f"({(out.stderr or out.stdout).strip()[:160]})")], {"database": db}
        return [], {"database": db}
    port = c.ports[0]
    status, body = http_get(host, port, HEALTH_PATH)
    problems = []
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    if status != "200":
        problems.append(f"GET {HEALTH_PATH} on port {port} answered {status or 'nothing'} "
                        f"({' '.join(body.split())[:160]})")
    else:
        if doc.get("version") != c.version:
            problems.append(f"{HEALTH_PATH} reports version {doc.get('version')!r}, "
                            f"expected {c.version!r}")
        if doc.get("service") not in (None, c.service):
            problems.append(f"{HEALTH_PATH} reports service {doc.get('service')!r}, "
                            f"expected {c.service!r}")
    return problems, {"status": status, "version": doc.get("version")}


APP_CHECKS = {"processes": processes_check, "ports": ports_check,
              "configuration": configuration_check, "health": health_check}
APP_WORKERS = 8


APP_RECHECK_AFTER = 2.0  # seconds: a service restarted a moment ago (startsecs=2) settles


@pytest.fixture(scope="module")
def app_findings(ctx, expectation, observation):
    """container name -> check name -> (problems, data, seconds), all gathered at once.

    A failed check is run once more after `APP_RECHECK_AFTER` seconds before it
    counts (e.g. right after `replicator configure` restarted the services); its
    message then says so.
    """
    def run(c, names):
        host = ctx.host(c)
        out = {}
        for name in names:
            started = time.perf_counter()
            try:
                problems, data = APP_CHECKS[name](c, host, expectation)
            except Exception as exc:  # noqa: BLE001 - a broken check fails its test
                problems, data = [f"the check could not run: {type(exc).__name__}: {exc}"], {}
            out[name] = (problems, data, time.perf_counter() - started)
        return out

    todo = [c for c in expectation.containers if c.name in observation.containers
            and observation.containers[c.name].running]
    with ThreadPoolExecutor(max_workers=APP_WORKERS) as pool:
        found = dict(zip([c.name for c in todo],
                         pool.map(lambda c: run(c, list(APP_CHECKS)), todo)))
        again = [(c, [n for n, r in found[c.name].items() if r[0]]) for c in todo]
        again = [(c, names) for c, names in again if names]
        if again:
            time.sleep(APP_RECHECK_AFTER)
            for (c, _), redo in zip(again, pool.map(lambda item: run(*item), again)):
                for name, (problems, data, seconds) in redo.items():
                    if problems:
                        problems = [*problems, f"still so {APP_RECHECK_AFTER:.0f} s later"]
                    found[c.name][name] = (problems, data, found[c.name][name][2] + seconds)
    return found


def _app_check(name, expected_container, observation, app_findings, record):
    __tracebackhide__ = True
    c = expected_container
    found = _observed(c, observation)
    if not found.running:
        fail_with(c.subject, [f"container {c.name} is {found.status}"])
    problems, data, seconds = app_findings[c.name][name]
    record("container", c.subject, service=c.service, site=c.site, check=name,
           cost_s=round(seconds, 4), **data)
    fail_with(c.subject, problems)


@application
@APP_GROUP
def test_processes(expected_container, observation, app_findings, record):
    _app_check("processes", expected_container, observation, app_findings, record)


@application
@APP_GROUP
def test_ports_listen(expected_container, observation, app_findings, record):
    _app_check("ports", expected_container, observation, app_findings, record)


@application
@APP_GROUP
def test_configuration(expected_container, observation, app_findings, record):
    _app_check("configuration", expected_container, observation, app_findings, record)


@application
@APP_GROUP
def test_health(expected_container, observation, app_findings, record):
    _app_check("health", expected_container, observation, app_findings, record)


def read_file(host, path: str) -> str | None:
    """The file's text, or None when it does not exist or cannot be read (one exec:
    testinfra's `file.exists` would cost one more)."""
    try:
        return host.file(path).content_string
    except AssertionError:  # testinfra: `cat` exited non-zero
        return None


def app_config_problems(c, text: str | None) -> list[str]:
    if text is None:
        return [f"{APP_CONFIG} does not exist"]
    try:
        doc = json.loads(text)
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
    text = read_file(host, path)
    if text is None:
        return [f"nginx vhost {path} does not exist"]
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
        if not re.search(rf"^\s*listen\s+(\S+:)?{port}\b", text, re.MULTILINE):
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


def http_get(host, port: int, path: str, timeout: int = 5) -> tuple[str, str]:
    """(status code, body) of a GET on 127.0.0.1:port inside the container ("" if none).

    bash's /dev/tcp and `timeout`: no interpreter to start, the cheapest exec there is.
    """
    request = f"GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n"
    script = (f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf '{request}' >&3 && "
              "cat <&3")
    out = host.run("timeout %s bash -c %s", str(timeout), script)
    head, _, body = out.stdout.partition("\r\n\r\n")
    parts = head.split(None, 2)
    if out.rc not in (0, 1) or len(parts) < 2 or not parts[0].startswith("HTTP/"):
        return "", (out.stderr or out.stdout or f"exit {out.rc}").strip()
    return parts[1], body


_ = APPLICATION  # the marker's name, registered in conftest
