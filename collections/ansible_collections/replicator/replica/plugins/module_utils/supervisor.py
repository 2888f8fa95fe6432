"""supervisord over its XML-RPC socket, for the collection's modules.

Not `supervisorctl`: every call of it starts another Python interpreter and
imports supervisor, about 0.5 s of a core (issue #9). A module that polls a
program's state while it starts would, in 26 containers at once, take the
cores the programs need to start. The transport is supervisor's own (the
package is in every image).
"""

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
