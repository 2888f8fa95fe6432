"""supervisord over its XML-RPC socket, for the collection's modules.

Not `supervisorctl`: every call of it starts another Python interpreter and
imports supervisor, about 0.5 s of a core (issue #9). A module that polls a
program's state while it starts would, in 26 containers at once, take the
cores the programs need to start. The transport is supervisor's own (the
package is in every image).
"""

import subprocess
import time
import urllib.error
import urllib.request
import xmlrpc.client

SUPERVISOR_URL = "unix:///run/supervisor.sock"  # the images' supervisord.conf


class Supervisor:
    """The few calls the modules need, with `supervisorctl`'s meaning."""

    def __init__(self, url=SUPERVISOR_URL):
        from supervisor.xmlrpc import SupervisorTransport

        proxy = xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, url))
        self._rpc = proxy.supervisor

    def state(self, name):
        """RUNNING, STARTING, STOPPED, BACKOFF, FATAL, ..., MISSING (no such program) or UNKNOWN."""
        try:
            return self._rpc.getProcessInfo(name)["statename"]
        except xmlrpc.client.Fault:
            return "MISSING"  # BAD_NAME: no such program (yet)
        except OSError:
            return "UNKNOWN"  # supervisord not answering

    def describe(self, name):
        """One line, as `supervisorctl status NAME` prints it."""
        try:
            info = self._rpc.getProcessInfo(name)
        except (xmlrpc.client.Fault, OSError) as exc:
            return f"{name}: {exc}"
        return f"{name} {info['statename']} {info.get('description', '')}".strip()

    def update(self):
        """`supervisorctl update`: re-read the program files; add, replace and remove groups.

        Returns (added, changed, removed) group names. A changed group is
        stopped and added back, which starts its autostart programs with the new file.
        """
        added, changed, removed = self._rpc.reloadConfig()[0]
        for group in removed + changed:
            self._call("stopProcessGroup", group)
            self._call("removeProcessGroup", group)
        for group in changed + added:
            self._call("addProcessGroup", group)
        return added, changed, removed

    def start(self, name):
        self._call("startProcess", name, False)  # no wait: the module waits on readiness

    def restart(self, name):
        self._call("stopProcess", name, True)
        self.start(name)

    def signal(self, name, signal):
        self._call("signalProcess", name, signal)

    def _call(self, method, *args):
        """Tolerates the faults `supervisorctl` also shrugs off (already started, not running)."""
        try:
            return getattr(self._rpc, method)(*args)
        except xmlrpc.client.Fault as fault:
            if fault.faultString.split(":")[0] in ("ALREADY_STARTED", "NOT_RUNNING", "ALREADY_ADDED"):
                return None
            raise SupervisorError(f"supervisor.{method}{args}: {fault.faultString}") from fault


class SupervisorError(Exception):
    """A supervisord call that failed for a reason worth reporting."""


# --------------------------------------------------------------------------- readiness
# Shared by `program` (start or apply, then wait) and `config_files` (start a
# program that is not running when nothing changed, then wait).

# Between two readiness polls. Each poll is an HTTP request (or the wait
# command) and one XML-RPC call: cheap, so 26 containers polling at once leave
# the cores to the programs that are starting.
POLL_INTERVAL = 0.25

# The options that say when a program is ready, for a module's argument_spec.
WAIT_OPTIONS = {
    "wait_url": {"type": "str"},
    "wait_status": {"type": "list", "elements": "int", "default": [200]},
    "wait_command": {"type": "list", "elements": "str"},
    "timeout": {"type": "int", "default": 120},
}


def log_tail(name):
    try:
        with open(f"/var/log/supervisor/{name}.log", errors="replace") as handle:
            return handle.read()[-1200:]
    except OSError:
        return ""


def ready(wait, sup, name):
    """Whether `name` is ready: `wait` holds WAIT_OPTIONS' values."""
    if wait.get("wait_url"):
        try:
            with urllib.request.urlopen(wait["wait_url"], timeout=10) as resp:
                code = resp.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except OSError:
            return False
        return code in (wait.get("wait_status") or [200])
    if wait.get("wait_command"):
        return subprocess.run(wait["wait_command"], capture_output=True,
                              check=False).returncode == 0
    return sup.state(name) == "RUNNING"


def wait_ready(wait, sup, name):
    """Poll until `name` is ready; SupervisorError (with its log's end) when it gives up or times out."""
    deadline = time.monotonic() + int(wait.get("timeout") or 120)
    while True:
        if ready(wait, sup, name):
            return
        state = sup.state(name)
        if state in ("FATAL", "MISSING") or time.monotonic() > deadline:
            what = wait.get("wait_url") or " ".join(wait.get("wait_command") or [])
            raise SupervisorError(f"{name} is not ready ({what or 'RUNNING'}; "
                                  f"{sup.describe(name)}); end of its log:\n{log_tail(name)}")
        time.sleep(POLL_INTERVAL)


def start(sup, name, check_mode=False):
    """Start `name` unless it runs (or is starting); True when it was (or would be) started."""
    state = sup.state(name)
    if state in ("RUNNING", "STARTING", "BACKOFF"):
        return False
    if check_mode:
        return True
    if state == "MISSING":
        sup.update()  # adds the new program file's group (which starts an autostart program)
        state = sup.state(name)
    if state not in ("RUNNING", "STARTING"):
        sup.start(name)
    return True
