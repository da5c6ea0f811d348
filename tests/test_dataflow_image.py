"""The Dockerfile, checked without a Docker engine: the image it names is Beam's SDK image at the
version the project pins, for the Python the project runs on; it installs the project with the
same setup script as `make setup`, copies what that script and the workers need, and boots Beam's
worker harness. (`make check-image` goes further: runs the install in a fresh virtualenv.)"""
import importlib.util
import json
import re
import shlex
import sys

import apache_beam

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("check_image", ROOT / "scripts" / "check_image.py")
check_image = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_image)

DOCKERFILE = check_image.parse_dockerfile(str(ROOT / "Dockerfile"))


def pinned(requirement_file, name):
    for line in (ROOT / requirement_file).read_text().splitlines():
        m = re.match(rf"{re.escape(name)}(\[[^\]]*\])?==([\w.]+)", line.strip())
        if m:
            return m.group(2)
    raise AssertionError(f"{name} not pinned in {requirement_file}")


def test_base_image_is_beams_sdk_at_the_pinned_version_and_python():
    froms = [i["args"].split()[0] for i in DOCKERFILE if i["op"] == "FROM"]
    assert len(froms) == 2, froms  # builder, runtime
    beam_version = pinned("requirements.txt", "apache-beam")
    assert beam_version == pinned("constraints.txt", "apache-beam") == apache_beam.__version__
    py = "%d.%d" % sys.version_info[:2]
    requires = re.search(r'requires-python = ">=([\d.]+),<', (ROOT / "pyproject.toml").read_text()).group(1)
    assert requires == py  # Dataflow needs the launcher's Python minor version in the image
    for image in froms:
        assert image == f"apache/beam_python{py}_sdk:{beam_version}", image


def test_same_setup_script_installs_the_project_and_kenlm():
    runs = [i for i in DOCKERFILE if i["op"] == "RUN" and i["stage"] == 0]
    assert runs and runs[0]["args"].startswith("bash scripts/setup.sh --system"), runs
    assert "bash scripts/setup.sh" in (ROOT / "Makefile").read_text()  # make setup: the same script
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert '--system' in setup and "build_kenlm.sh" in setup
    # Everything setup.sh reads, and every package pyproject installs, is in the builder's context.
    copied = {src.rstrip("/") for sources, _ in check_image.copies(DOCKERFILE, 0) for src in sources}
    for needed in ["requirements.txt", "constraints.txt", "pyproject.toml", "scripts"]:
        assert needed in copied, needed
    include = re.search(r"include = \[([^\]]*)\]", (ROOT / "pyproject.toml").read_text()).group(1)
    for package in (p.strip().strip('"').rstrip("*") for p in include.split(",")):
        assert package in copied, f"pyproject installs {package}/ but the Dockerfile does not COPY it"
    # The KenLM binaries setup.sh builds beside python3 are what the runtime stage copies.
    runtime = [i["args"] for i in DOCKERFILE if i["op"] == "COPY" and i["stage"] == 1]
    assert any("/usr/local/bin/lmplz" in c and "/usr/local/bin/build_binary" in c for c in runtime), runtime
    assert any("/usr/local/lib/python3.11/site-packages" in c for c in runtime)


def test_entrypoint_is_beams_worker_boot_and_project_importable():
    (entry,) = [i["args"] for i in DOCKERFILE if i["op"] == "ENTRYPOINT"]
    assert json.loads(entry) == ["/opt/apache/beam/boot"]
    envs = [shlex.split(i["args"])[0] for i in DOCKERFILE if i["op"] == "ENV" and i["stage"] == 1]
    assert "PYTHONPATH=/opt/llamadata" in envs
    final = [i for i in DOCKERFILE if i["stage"] == 1]
    assert final[-1]["op"] == "ENTRYPOINT"
