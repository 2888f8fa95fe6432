#!/usr/bin/python
"""Write many files in one module run (one `docker exec` instead of two or three per file)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write several files and remove others in one run
description:
  - Writes each file of O(files) atomically (temporary file in the same
    directory, then rename) when its content differs, and sets its owner,
    group and mode. Removes the paths of O(absent).
  - Checks the files of O(expect) first (for instance a version file baked
    into the image) and fails with their C(fix) when one differs.
  - Writes the files of O(secret_files) the same way; their content is never
    logged nor shown in a diff, and a missing or short secret fails the run.
  - Creates the directories of O(directories) first.
  - With O(program), returns that supervisord program's state. With
    O(ensure_running) as well, when no file changed and the program is not
    running, starts it and waits until it is ready: a changed file is the
    handler's to apply, so a re-run is one module run a container, and no
    "ensure running" task is there to be skipped.
  - Supports check mode and diff mode.
options:
  files:
    description: Files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content: {description: The content., type: str, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string such as C(0644)., type: str, required: true}
  secret_files:
    description: Files holding a secret (never logged, never in a diff).
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content: {description: The secret., type: str, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string such as C(0640)., type: str, required: true}
      min_length: {description: Shorter content fails the run (a secret that was not handed over)., type: int, default: 16}
  directories:
    description: Directories to create (or fix owner and mode of) before the files.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string such as C(0700)., type: str, required: true}
  program:
    description: A supervisord program whose state to return as RV(program_status).
    type: str
  ensure_running:
    description: >-
      Start O(program) when it is not running and no file changed, then wait
      until it is ready (as C(replicator.replica.program)).
    type: dict
    suboptions:
      wait_url: {description: HTTP URL polled until it answers one of O(ensure_running.wait_status)., type: str}
      wait_status: {description: Accepted HTTP statuses., type: list, elements: int, default: [200]}
      wait_command: {description: Command polled until it exits 0., type: list, elements: str}
      timeout: {description: Seconds to wait., type: int, default: 120}
  absent:
    description: Paths to remove when present.
    type: list
    elements: path
    default: []
  expect:
    description: Files that must already hold exactly C(content) (surrounding whitespace ignored).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: Expected content., type: str, required: true}
      fix: {description: What to do when it differs (shown in the error)., type: str, default: ""}
author: replicator
"""

EXAMPLES = r"""
- name: Write the application configuration
  replicator.replica.config_files:
    files:
      - {dest: /etc/replicator/app.json, content: "{{ doc | to_nice_json }}", group: replicator, mode: "0640"}
    absent: [/etc/nginx/sites-enabled/default]
"""

RETURN = r"""
changed_files:
  description: Paths written, re-owned or removed (or that would be, in check mode).
  type: list
  elements: str
  returned: always
program_status:
  description: >-
    The state of O(program) in supervisord (RUNNING, STARTING, STOPPED, FATAL,
    ...), C(MISSING) when supervisord has no such program, C(UNKNOWN) when
    supervisord does not answer; empty without O(program).
  type: str
  returned: always
started:
  description: Whether O(program) was (or, in check mode, would be) started by O(ensure_running).
  type: bool
  returned: always
"""

import grp  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.replicator.replica.plugins.module_utils.supervisor import (  # noqa: E402
    WAIT_OPTIONS,
    Supervisor,
    SupervisorError,
    start,
    wait_ready,
)


def _ids(module, spec):
    try:
        uid = pwd.getpwnam(spec["owner"]).pw_uid
        gid = grp.getgrnam(spec["group"]).gr_gid
    except KeyError as exc:
        module.fail_json(msg=f"{spec.get('dest') or spec['path']}: no such user or group {exc}: is the container's "
                             "image current? (replicator image build, then replicator up)")
    try:
        mode = int(spec["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"{spec.get('dest') or spec['path']}: mode {spec['mode']!r} is not octal (e.g. '0644')")
    return uid, gid, mode


def _current(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        st = os.stat(path)
        return data, (st.st_uid, st.st_gid, st.st_mode & 0o7777)
    except FileNotFoundError:
        return None, None


def _write(path, data, uid, gid, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_expected(module):
    for item in module.params["expect"]:
        data, _ = _current(item["path"])
        found = data.decode(errors="replace").strip() if data is not None else None
        if found != item["content"].strip():
            module.fail_json(msg=f"{item['path']} holds {found!r}, expected "
                                 f"{item['content'].strip()!r}. {item['fix']}".strip())


_FILE_OPTIONS = {
    "dest": {"type": "path", "required": True},
    "content": {"type": "str", "required": True},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    "mode": {"type": "str", "required": True},
}


def _ensure_directories(module, changed):
    for spec in module.params["directories"]:
        path = spec["path"]
        uid, gid, mode = _ids(module, spec)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            changed.append(path)
            if not module.check_mode:
                os.makedirs(path, mode)
                os.chown(path, uid, gid)
                os.chmod(path, mode)
            continue
        if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (uid, gid, mode):
            changed.append(path)
            if not module.check_mode:
                os.chown(path, uid, gid)
                os.chmod(path, mode)


def _write_files(module, specs, changed, diffs, secret):
    for spec in specs:
        path = spec["dest"]
        if secret and len(spec["content"]) < spec["min_length"]:
            module.fail_json(msg=f"{path}: the secret is missing or shorter than "
                                 f"{spec['min_length']} characters: run the playbook through "
                                 "`replicator configure`, which hands the secrets over")
        uid, gid, mode = _ids(module, spec)
        wanted = spec["content"].encode()
        data, meta = _current(path)
        if data == wanted and meta == (uid, gid, mode):
            continue
        changed.append(path)
        if module._diff and data != wanted and not secret:
            diffs.append({"before_header": path, "after_header": path,
                          "before": (data or b"").decode(errors="replace"),
                          "after": spec["content"]})
        if module.check_mode:
            continue
        if not os.path.isdir(os.path.dirname(path)):
            module.fail_json(msg=f"{path}: directory {os.path.dirname(path)} does not exist")
        if data == wanted:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        else:
            _write(path, wanted, uid, gid, mode)


def _ensure_running(module, name):
    """Start the program when it is not running, and wait for it (O(ensure_running))."""
    wait = module.params["ensure_running"]
    if not wait:
        return False
    sup = Supervisor()
    try:
        started = start(sup, name, module.check_mode)
        if started and not module.check_mode:
            wait_ready(wait, sup, name)
    except SupervisorError as exc:
        module.fail_json(msg=str(exc), changed_files=[])
    return started


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {"type": "list", "elements": "dict", "default": [], "options": _FILE_OPTIONS},
            "secret_files": {"type": "list", "elements": "dict", "default": [], "options": {
                **_FILE_OPTIONS,
                "content": {"type": "str", "required": True, "no_log": True},
                "min_length": {"type": "int", "default": 16},
            }},
            "directories": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
                "mode": {"type": "str", "required": True},
            }},
            "program": {"type": "str"},
            "ensure_running": {"type": "dict", "options": WAIT_OPTIONS},
            "absent": {"type": "list", "elements": "path", "default": []},
            "expect": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "content": {"type": "str", "required": True},
                "fix": {"type": "str", "default": ""},
            }},
        },
        required_by={"ensure_running": "program"},
        supports_check_mode=True,
    )
    _check_expected(module)
    changed, diffs = [], []
    _ensure_directories(module, changed)
    _write_files(module, module.params["secret_files"], changed, diffs, secret=True)
    _write_files(module, module.params["files"], changed, diffs, secret=False)
    for path in module.params["absent"]:
        if os.path.lexists(path):
            changed.append(path)
            if not module.check_mode:
                os.unlink(path)
    name = module.params["program"]
    started = _ensure_running(module, name) if not changed else False
    result = {"changed": bool(changed) or started, "changed_files": changed, "started": started,
              "program_status": Supervisor().state(name) if name else ""}
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
