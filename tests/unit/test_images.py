"""Image recipes: hashing, recipe content, and the build flow against a fake engine."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from rich.console import Console

from replicator.errors import InputError
from replicator.images import (
    IMAGE_NAMES,
    RECIPES_DIR,
    ImageBuildError,
    build_images,
    image_ref,
    image_status,
    load_recipes,
    recipe_hashes,
)
from replicator.images import build as build_mod

LAYERS = ("app", "web", "db")


@pytest.fixture
def recipes(tmp_path: Path) -> Path:
    """A private copy of the real recipes to modify."""
    return Path(shutil.copytree(RECIPES_DIR, tmp_path / "recipes"))


def _hashes(path: Path) -> dict[str, str]:
    return recipe_hashes(load_recipes(path))


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


# --------------------------------------------------------------------------- hashing


def test_image_names_and_refs():
    assert IMAGE_NAMES == ("base", "app", "web", "db")
    assert image_ref("app") == "replicator/app:latest"
    assert image_ref("db", "abc") == "replicator/db:abc"


def test_identical_recipe_same_hash(recipes):
    first, again, copy = _hashes(RECIPES_DIR), _hashes(RECIPES_DIR), _hashes(recipes)
    assert first == again == copy  # independent of where the recipes live
    assert all(len(h) == 16 and int(h, 16) >= 0 for h in first.values())
    assert len(set(first.values())) == len(first)


def test_parents_come_first_and_layers_name_base():
    loaded = load_recipes()
    assert next(iter(loaded)) == "base"
    assert loaded["base"].parent is None
    assert {loaded[n].parent for n in LAYERS} == {"base"}


def test_layer_change_changes_only_that_layer(recipes):
    before = _hashes(recipes)
    dockerfile = recipes / "web" / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("nginx supervisor", "nginx supervisor less")
    )
    assert _changed(before, _hashes(recipes)) == {"web"}


def test_base_package_change_propagates_to_every_layer(recipes):
    before = _hashes(recipes)
    with (recipes / "base" / "packages.txt").open("a") as fh:
        fh.write("less\n")
    assert load_recipes(recipes)["base"].packages[-1] == "less"
    assert _changed(before, _hashes(recipes)) == set(IMAGE_NAMES)


def test_build_script_change_propagates(recipes):
    before = _hashes(recipes)
    script = recipes / "base" / "build-rootfs.sh"
    script.write_text(script.read_text() + "\n# tweak\n")
    assert _changed(before, _hashes(recipes)) == set(IMAGE_NAMES)


def test_executable_bit_is_part_of_the_recipe(recipes):
    before = _hashes(recipes)
    (recipes / "base" / "build-rootfs.sh").chmod(0o644)
    assert "base" in _changed(before, _hashes(recipes))


def test_shared_file_change_rebuilds_layers_not_base(recipes):
    before = _hashes(recipes)
    conf = recipes / "common" / "supervisord.conf"
    conf.write_text(conf.read_text() + "\n; tweak\n")
    assert _changed(before, _hashes(recipes)) == set(LAYERS)


def test_new_file_in_layer_context_changes_hash(recipes):
    before = _hashes(recipes)
    (recipes / "db" / "extra.conf").write_text("x = 1\n")
    assert _changed(before, _hashes(recipes)) == {"db"}


def test_builder_version_is_part_of_every_hash(recipes, monkeypatch):
    from replicator.images import recipes as recipes_mod

    before = _hashes(recipes)
    monkeypatch.setattr(recipes_mod, "BUILDER_VERSION", "test-next")
    assert _changed(before, _hashes(recipes)) == set(IMAGE_NAMES)


def test_dockerfile_must_name_its_parent(recipes):
    dockerfile = recipes / "app" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("ARG BASE_IMAGE=", "ARG OTHER="))
    with pytest.raises(InputError, match="parent"):
        load_recipes(recipes)


def test_unknown_parent_is_an_input_error(recipes):
    dockerfile = recipes / "app" / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("replicator/base:latest", "replicator/nope:latest")
    )
    with pytest.raises(InputError, match="nope"):
        load_recipes(recipes)


def test_layer_on_layer_hash_chains(recipes):
    (recipes / "extra").mkdir()
    (recipes / "extra" / "Dockerfile").write_text(
        "ARG BASE_IMAGE=replicator/app:latest\nFROM ${BASE_IMAGE}\n"
    )
    before = _hashes(recipes)
    assert list(load_recipes(recipes)).index("extra") > list(load_recipes(recipes)).index("app")
    dockerfile = recipes / "app" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\n# tweak\n")
    assert _changed(before, _hashes(recipes)) == {"app", "extra"}


# --------------------------------------------------------------------------- recipe content


def test_base_packages_cover_what_tests_and_ansible_need():
    packages = load_recipes()["base"].packages
    assert {"python3", "procps", "iproute2", "ca-certificates"} <= set(packages)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_dockerfiles_follow_the_rules(name):
    text = (RECIPES_DIR / name / "Dockerfile").read_text()
    assert "--no-install-recommends" in text
    assert "apt-get clean" in text
    assert "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin" in text
    assert 'CMD ["supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]' in text
    assert "COPY common/supervisord.conf /etc/supervisor/supervisord.conf" in text
    assert "systemctl" not in text


def test_supervisord_conf_includes_conf_d_and_runs_in_foreground():
    conf = (RECIPES_DIR / "common" / "supervisord.conf").read_text()
    assert "files = /etc/supervisor/conf.d/*.conf" in conf
    assert "nodaemon=true" in conf
    assert "[program:" not in conf  # nothing runs until configuration adds it


def test_base_build_blocks_service_starts():
    script = (RECIPES_DIR / "base" / "build-rootfs.sh").read_text()
    assert "policy-rc.d" in script and "exit 101" in script
    assert "--variant=minbase" in script
    assert "http" not in script  # debootstrap's default mirror: no host in the repo


def test_layer_context_has_dockerfile_and_common_files():
    with tarfile.open(fileobj=build_mod._context_tar(load_recipes()["app"])) as tar:
        names = set(tar.getnames())
    assert {"Dockerfile", "common/supervisord.conf"} <= names


# --------------------------------------------------------------------------- build flow


class FakeAPI:
    """Enough of docker-py's APIClient for build_images' decisions."""

    def __init__(self, present: dict[str, str], build_stream=None):
        self.images = dict(present)  # ref -> id
        self.builds: list[dict] = []
        self.imports: list[dict] = []
        self.build_stream = build_stream

    def inspect_image(self, ref):
        import docker.errors

        if ref not in self.images:
            raise docker.errors.ImageNotFound(ref)
        return {"Id": self.images[ref], "Size": 1_000_000, "Created": "now"}

    def tag(self, src, repository, tag, force=False):
        self.images[f"{repository}:{tag}"] = self.images[src]

    def build(self, **kwargs):
        self.builds.append(kwargs)
        if self.build_stream is not None:
            return iter(self.build_stream)
        self.images[kwargs["tag"]] = "sha256:" + kwargs["tag"]
        return iter([{"stream": "Step 1/2 : FROM x\n"}, {"stream": "Successfully built x\n"}])

    def import_image_from_file(self, filename, repository, tag, changes):
        self.imports.append({"filename": filename, "changes": changes})
        self.images[f"{repository}:{tag}"] = "sha256:imported"


class FakeClient:
    def __init__(self, api: FakeAPI):
        self.api = api


QUIET = Console(quiet=True)


def _all_present() -> dict[str, str]:
    return {image_ref(n, h): f"sha256:{n}" for n, h in recipe_hashes(load_recipes()).items()}


def test_everything_cached_builds_nothing(tmp_path):
    api = FakeAPI(_all_present())
    built = build_images(FakeClient(api), progress=QUIET, workdir=tmp_path)
    assert [b.name for b in built] == list(IMAGE_NAMES)
    assert all(b.cached for b in built)
    assert api.builds == [] and api.imports == []
    # :latest now points at each hash tag
    assert all(api.images[image_ref(n)] == f"sha256:{n}" for n in IMAGE_NAMES)


def test_missing_layer_is_built_from_the_parents_hash_tag(tmp_path):
    hashes = recipe_hashes(load_recipes())
    present = _all_present()
    del present[image_ref("web", hashes["web"])]
    api = FakeAPI(present)
    built = build_images(FakeClient(api), ["web"], progress=QUIET, workdir=tmp_path)
    assert [(b.name, b.action) for b in built] == [("base", "cached"), ("web", "built")]
    (call,) = api.builds
    assert call["tag"] == image_ref("web", hashes["web"])
    assert call["buildargs"] == {"BASE_IMAGE": image_ref("base", hashes["base"])}
    assert call["labels"] == {"replicator.image": "web", "replicator.recipe": hashes["web"]}
    assert call["pull"] is False and call["nocache"] is False


def test_missing_base_is_reimported_from_the_kept_tarball(tmp_path):
    hashes = recipe_hashes(load_recipes())
    present = _all_present()
    del present[image_ref("base", hashes["base"])]
    images = tmp_path / "images"
    images.mkdir()
    (images / f"base-{hashes['base']}.tar").write_bytes(b"")
    (images / "base-0000000000000000.tar").write_bytes(b"")  # an older recipe's
    api = FakeAPI(present)
    built = build_images(FakeClient(api), ["base"], progress=QUIET, workdir=tmp_path)
    assert [(b.name, b.action) for b in built] == [("base", "imported")]
    (call,) = api.imports
    assert "LABEL replicator.image=base" in call["changes"]
    assert f"LABEL replicator.recipe={hashes['base']}" in call["changes"]
    assert "ENV LANG=C.UTF-8" in call["changes"]
    assert 'CMD ["/bin/bash"]' in call["changes"]
    assert not (images / "base-0000000000000000.tar").exists()


def test_build_failure_names_image_step_and_log(tmp_path):
    hashes = recipe_hashes(load_recipes())
    present = _all_present()
    del present[image_ref("db", hashes["db"])]
    stream = [
        {"stream": "Step 1/9 : ARG BASE_IMAGE=replicator/base:latest\n"},
        {"stream": "Step 3/9 : RUN set -eux;     apt-get update\n"},
        {"stream": "E: Unable to locate package postgresql-99\n"},
        {"error": "The command '/bin/sh -c ...' returned a non-zero code: 100"},
    ]
    api = FakeAPI(present, build_stream=stream)
    with pytest.raises(ImageBuildError) as err:
        build_images(FakeClient(api), ["db"], progress=QUIET, workdir=tmp_path)
    text = err.value.render()
    assert f"replicator/db:{hashes['db']}" in text
    assert "Step 3/9 : RUN set -eux; apt-get update" in text
    assert "Unable to locate package postgresql-99" in text
    assert "non-zero code: 100" in text
    assert str(tmp_path / "images" / f"db-{hashes['db']}.log") in text


def test_force_rebuilds_without_cache(tmp_path):
    api = FakeAPI(_all_present())
    built = build_images(FakeClient(api), ["app"], force=True, progress=QUIET, workdir=tmp_path)
    assert [(b.name, b.action) for b in built] == [("base", "cached"), ("app", "built")]
    assert api.builds[0]["nocache"] is True


def test_unknown_image_name_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nope"):
        build_images(None, ["nope"], progress=QUIET, workdir=tmp_path)


def test_image_status_reports_present_and_absent(tmp_path):
    hashes = recipe_hashes(load_recipes())
    present = _all_present()
    del present[image_ref("db", hashes["db"])]
    present[image_ref("app")] = "sha256:older"
    rows = {r.name: r for r in image_status(FakeClient(FakeAPI(present)), workdir=tmp_path)}
    assert rows["db"].status == "absent" and rows["db"].size is None
    assert rows["base"].present and rows["base"].recipe_hash == hashes["base"]
    assert rows["app"].present and not rows["app"].latest_current
    assert rows["app"].to_dict()["status"].startswith("built")


def test_scratch_prefers_tmpfs_with_room(tmp_path, monkeypatch):
    monkeypatch.setattr(build_mod, "SCRATCH_CANDIDATES", (tmp_path / "missing",))
    fallback = tmp_path / "scratch"
    assert build_mod._scratch_dir(fallback) == fallback and fallback.is_dir()
    monkeypatch.setattr(build_mod, "SCRATCH_CANDIDATES", (tmp_path,))
    monkeypatch.setattr(build_mod, "SCRATCH_MIN_FREE", 1)
    assert build_mod._scratch_dir(fallback) == tmp_path


def test_context_tar_is_deterministic():
    recipe = load_recipes()["db"]
    first = build_mod._context_tar(recipe).getvalue()
    assert first == build_mod._context_tar(recipe).getvalue()
    assert isinstance(io.BytesIO(first), io.BytesIO)
