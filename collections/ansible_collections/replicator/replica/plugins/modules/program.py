#!/usr/bin/python
"""A supervisord program started (or applied after a change) and waited for, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: program
short_description: Start or apply a supervisord program, then wait until it answers
description:
  - C(state=started) starts the program when it is not running (after
    C(supervisorctl update), which adds a new program file); a running program
    is left alone.
  - C(state=applied) is for handlers, after the program's files changed. It
    runs O(check_command) first, then C(supervisorctl update), which (re)starts
    the program when its own program file changed; otherwise the running
    program is sent O(signal), or restarted when no signal is given.
  - Then waits, up to O(timeout) seconds, for O(wait_url) to answer one of
    O(wait_status) or O(wait_command) to exit 0, and fails early, with the end
    of the program's log, when supervisord gives up on it (FATAL).
options:
  name: {description: The supervisord program., type: str, required: true}
  state: {description: What to do., type: str, choices: [started, applied], default: started}
  signal: {description: Signal for a running program on C(applied) (restart when unset)., type: str}
  check_command: {description: Command that must exit 0 before applying (e.g. C(nginx -t))., type: list, elements: str}
  wait_url: {description: HTTP URL polled until it answers one of O(wait_status)., type: str}
  wait_status: {description: Accepted HTTP statuses., type: list, elements: int, default: [200]}
  wait_command: {description: Command polled until it exits 0., type: list, elements: str}
  timeout: {description: Seconds to wait., type: int, default: 120}
author: replicator
"""

EXAMPLES = r"""
- name: Ensure the application runs and answers /health
  replicator.replica.program:
    name: replicator-app
    wait_url: http://127.0.0.1:8080/health
    wait_status: [200, 503]
"""

RETURN = r"""
status:
  description: The program's supervisord status line at the end.
  type: str
  returned: always
"""

import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

SUPERVISORCTL = "supervisorctl"


def ctl(*args):
    proc = subprocess.run([SUPERVISORCTL, *args], capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def status(name):
    """RUNNING, STARTING, STOPPED, BACKOFF, FATAL, ... or MISSING (no such program yet)."""
    _rc, out = ctl("status", name)
    words = out.split()
    if "no such process" in out or len(words) < 2:
        return "MISSING", out
    return words[1], out


def log_tail(name):
    try:
        with open(f"/var/log/supervisor/{name}.log", errors="replace") as handle:
            return handle.read()[-1200:]
    except OSError:
        return ""


def ready(params):
    if params["wait_url"]:
        try:
            with urllib.request.urlopen(params["wait_url"], timeout=10) as resp:
                code = resp.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except OSError:
            return False
        return code in params["wait_status"]
    if params["wait_command"]:
        return subprocess.run(params["wait_command"], capture_output=True,
                              check=False).returncode == 0
    return status(params["name"])[0] == "RUNNING"


def wait(module, name):
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        if ready(module.params):
            return
        state, line = status(name)
        if state in ("FATAL", "MISSING") or time.monotonic() > deadline:
            what = module.params["wait_url"] or " ".join(module.params["wait_command"] or [])
            module.fail_json(msg=f"{name} is not ready ({what or 'RUNNING'}; {line}); "
                                 f"end of its log:\n{log_tail(name)}")
        time.sleep(0.3)


def start(module, name):
    state, _line = status(name)
    if state in ("RUNNING", "STARTING", "BACKOFF"):
        return False
    if module.check_mode:
        return True
    if state == "MISSING":
        ctl("update")
        state, _line = status(name)
    if state not in ("RUNNING", "STARTING"):
        rc, out = ctl("start", name)
        if rc != 0 and "already started" not in out:
            module.fail_json(msg=f"supervisorctl start {name}: {out}\n{log_tail(name)}")
    return True


def apply(module, name):
    if module.check_mode:
        return True
    if module.params["check_command"]:
        proc = subprocess.run(module.params["check_command"], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            module.fail_json(msg=f"{' '.join(module.params['check_command'])} failed: "
                                 f"{(proc.stdout + proc.stderr).strip()}")
    rc, out = ctl("update")
    if rc != 0:
        module.fail_json(msg=f"supervisorctl update: {out}")
    if f"{name}: added process group" in out or f"{name}: updated process group" in out:
        return True  # update (re)started it with its new program file
    state, _line = status(name)
    if state != "RUNNING":
        ctl("start", name)
    elif module.params["signal"]:
        ctl("signal", module.params["signal"], name)
    else:
        ctl("restart", name)
    return True


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["started", "applied"], "default": "started"},
            "signal": {"type": "str"},
            "check_command": {"type": "list", "elements": "str"},
            "wait_url": {"type": "str"},
            "wait_status": {"type": "list", "elements": "int", "default": [200]},
            "wait_command": {"type": "list", "elements": "str"},
            "timeout": {"type": "int", "default": 120},
        },
        mutually_exclusive=[("wait_url", "wait_command")],
        supports_check_mode=True,
    )
    name = module.params["name"]
    if module.params["state"] == "applied":
        changed = apply(module, name)
    else:
        changed = start(module, name)
    if not module.check_mode:
        wait(module, name)
    module.exit_json(changed=changed, status=status(name)[1])


if __name__ == "__main__":
    main()
