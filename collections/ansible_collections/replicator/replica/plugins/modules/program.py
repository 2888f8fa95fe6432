#!/usr/bin/python
"""A supervisord program started (or applied after a change) and waited for, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: program
short_description: Start or apply a supervisord program, then wait until it answers
description:
  - C(state=started) starts the program when it is not running (after
    supervisord's update, as C(supervisorctl update), which adds a new program
    file); a running program is left alone.
  - C(state=applied) is for handlers, after the program's files changed. It
    runs O(check_command) first, then supervisord's update, which (re)starts
    the program when its own program file changed; otherwise the running
    program is sent O(signal), or restarted when no signal is given.
  - Talks to supervisord over its XML-RPC socket, not through C(supervisorctl).
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

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.replicator.replica.plugins.module_utils.supervisor import (  # noqa: E402
    WAIT_OPTIONS,
    Supervisor,
    SupervisorError,
    log_tail,
    start,
    wait_ready,
)


def apply(module, sup, name):
    if module.check_mode:
        return True
    if module.params["check_command"]:
        proc = subprocess.run(module.params["check_command"], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            module.fail_json(msg=f"{' '.join(module.params['check_command'])} failed: "
                                 f"{(proc.stdout + proc.stderr).strip()}")
    added, changed, _removed = sup.update()
    if name in added or name in changed:
        return True  # update (re)started it with its new program file
    if sup.state(name) != "RUNNING":
        sup.start(name)
    elif module.params["signal"]:
        sup.signal(name, module.params["signal"])
    else:
        sup.restart(name)
    return True


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["started", "applied"], "default": "started"},
            "signal": {"type": "str"},
            "check_command": {"type": "list", "elements": "str"},
            **WAIT_OPTIONS,
        },
        mutually_exclusive=[("wait_url", "wait_command")],
        supports_check_mode=True,
    )
    name = module.params["name"]
    sup = Supervisor()
    try:
        if module.params["state"] == "applied":
            changed = apply(module, sup, name)
        else:
            changed = start(sup, name, module.check_mode)
    except SupervisorError as exc:
        module.fail_json(msg=f"{exc}\n{log_tail(name)}")
    if not module.check_mode:
        try:
            wait_ready(module.params, sup, name)
        except SupervisorError as exc:
            module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, status=sup.describe(name))


if __name__ == "__main__":
    main()
