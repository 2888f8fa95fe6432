"""Pulumi.yaml and the stack config files (replicator/engine/workspace.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from replicator.engine.workspace import Project
from replicator.errors import ExitCode, InputError
from replicator.topology import stack_settings_from_config

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PULUMI_YAML = """\
name: demo
runtime:
  name: python
  options: {virtualenv: .venv}
main: infra/
stackConfigDir: stacks
"""


def make_project(root: Path, pulumi_yaml: str = PULUMI_YAML, *, program: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(pulumi_yaml)
    (root / "stacks").mkdir(exist_ok=True)
    if program:
        (root / "infra").mkdir(exist_ok=True)
        (root / "infra" / "__main__.py").write_text("")
    return root


def write_stack(root: Path, stack: str, text: str) -> Path:
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------- Pulumi.yaml


def test_load_reads_name_program_and_stack_dir(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    project = Project.load(root)
    assert project.name == "demo"
    assert project.program == (root / "infra" / "__main__.py").resolve()
    assert project.stack_config_dir == (root / "stacks").resolve()
    assert project.stack_file("s1") == (root / "stacks" / "Pulumi.s1.yaml").resolve()


def test_load_accepts_runtime_as_a_string_and_main_as_a_file(tmp_path: Path) -> None:
    root = make_project(tmp_path, "name: demo\nruntime: python\nmain: infra/__main__.py\n")
    project = Project.load(root)
    assert project.program.name == "__main__.py"
    assert project.stack_config_dir == root.resolve(), "stack files default to the project root"


def test_missing_pulumi_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Pulumi.yaml") as info:
        Project.load(tmp_path)
    assert info.value.exit_code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("runtime", ["nodejs", "{name: go}", "null"])
def test_unsupported_runtime(tmp_path: Path, runtime: str) -> None:
    root = make_project(tmp_path, f"name: demo\nruntime: {runtime}\nmain: infra/\n")
    with pytest.raises(InputError, match="is not supported") as info:
        Project.load(root)
    assert info.value.location.path == "runtime"
    assert info.value.location.file == root / "Pulumi.yaml"


def test_missing_program(tmp_path: Path) -> None:
    root = make_project(tmp_path, program=False)
    with pytest.raises(InputError, match="does not exist") as info:
        Project.load(root)
    assert info.value.location.path == "main"


def test_project_without_a_name(tmp_path: Path) -> None:
    root = make_project(tmp_path, "runtime: python\nmain: infra/\n")
    with pytest.raises(InputError, match="no project name") as info:
        Project.load(root)
    assert info.value.location.path == "name"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, "name: demo\nruntime: python\nmain: [infra\n")
    with pytest.raises(InputError, match="invalid YAML") as info:
        Project.load(root)
    assert info.value.location.file == root / "Pulumi.yaml"
    assert info.value.location.line is not None and info.value.location.line >= 3


# ---------------------------------------------------------------------------- stack config


def test_stack_config_flattens_objects_and_namespaces_bare_keys(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write_stack(root, "s1", """\
config:
  demo:edition: paris2024
  demo:subnets:
    lan: 10.241.1.0/24
    edge: 10.241.101.0/24
  demo:venues: [AQC, STA]
  imageTag: v1
  replicas: 3
  debug: true
  aws:region: eu-west-3
""")
    config, secret_keys = Project.load(root).stack_config("s1")
    assert config["demo:edition"] == "paris2024"
    assert isinstance(config["demo:subnets"], str)
    assert json.loads(config["demo:subnets"]) == {"lan": "10.241.1.0/24", "edge": "10.241.101.0/24"}
    assert json.loads(config["demo:venues"]) == ["AQC", "STA"]
    assert config["demo:imageTag"] == "v1", "a bare key gets the project's namespace"
    assert config["demo:replicas"] == "3"
    assert config["demo:debug"] == "true"
    assert config["aws:region"] == "eu-west-3", "another namespace is kept as it is"
    assert "imageTag" not in config
    assert all(isinstance(v, str) for v in config.values())
    assert secret_keys == []


def test_empty_stack_file_is_an_empty_config(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write_stack(root, "empty", "")
    write_stack(root, "noconfig", "config:\n")
    project = Project.load(root)
    assert project.stack_config("empty") == ({}, [])
    assert project.stack_config("noconfig") == ({}, [])


def test_unknown_stack_lists_the_known_ones(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write_stack(root, "b-stack", "config: {}\n")
    write_stack(root, "a-stack", "config: {}\n")
    project = Project.load(root)
    assert project.stacks() == ["a-stack", "b-stack"]
    with pytest.raises(InputError, match="no stack named 'nope'") as info:
        project.stack_config("nope")
    assert "a-stack, b-stack" in (info.value.fix or "")
    assert "stacks/Pulumi.nope.yaml" in info.value.message


def test_unknown_stack_without_any_stack(tmp_path: Path) -> None:
    project = Project.load(make_project(tmp_path))
    with pytest.raises(InputError) as info:
        project.stack_config("nope")
    assert "none" in (info.value.fix or "")


def test_secure_value_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = write_stack(root, "s1", "config:\n  demo:password:\n    secure: AAABAxyz\n")
    with pytest.raises(InputError, match="secure") as info:
        Project.load(root).stack_config("s1")
    assert info.value.location.file == path
    assert info.value.location.path == "config.demo:password"
    assert "AAABAxyz" not in str(info.value)


def test_a_mapping_with_a_secure_key_among_others_is_plain_config(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write_stack(root, "s1", "config:\n  demo:obj:\n    secure: x\n    other: y\n")
    config, _ = Project.load(root).stack_config("s1")
    assert json.loads(config["demo:obj"]) == {"secure": "x", "other": "y"}


def test_stack_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = write_stack(root, "s1", "- a\n- b\n")
    with pytest.raises(InputError, match="mapping") as info:
        Project.load(root).stack_config("s1")
    assert info.value.location.file == path


def test_invalid_stack_yaml_names_the_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = write_stack(root, "s1", "config:\n  demo:a: 1\n  demo:b: [\n")
    with pytest.raises(InputError) as info:
        Project.load(root).stack_config("s1")
    assert info.value.location.file == path
    assert info.value.location.line is not None


def test_date_like_value_is_passed_as_text(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    write_stack(root, "s1", "config:\n  demo:imageTag: 2024-07-26\n")
    config, _ = Project.load(root).stack_config("s1")
    assert config["demo:imageTag"] == "2024-07-26"


def test_unknown_stack_with_a_relative_project_root(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)
    write_stack(root, "s1", "config: {}\n")
    monkeypatch.chdir(root)
    project = Project.load(Path("."))
    assert project.root.is_absolute()
    assert project.stack_config("s1") == ({}, [])
    with pytest.raises(InputError, match="s1"):
        project.stack_config("nope")


# ---------------------------------------------------------------------------- the real project


def test_the_real_project_and_its_stacks() -> None:
    project = Project.load(PROJECT_ROOT)
    assert project.name == "replicator"
    assert project.program == PROJECT_ROOT / "infra" / "__main__.py"
    assert {"paris2024-itl", "paris2024-ctoc", "paris2024-toc"} <= set(project.stacks())
    for stack in ("paris2024-itl", "paris2024-ctoc", "paris2024-toc"):
        config, _ = project.stack_config(stack)
        assert all(k.startswith("replicator:") for k in config)
        settings = stack_settings_from_config(config, source=os.fspath(project.stack_file(stack)),
                                              stack=stack)
        assert settings.stack == stack
        assert isinstance(json.loads(config["replicator:subnets"]), dict)
