"""The README's commands without make, run as written in a fresh clone (make test-install).

The "any shell" block between the README's without-make markers: its first line makes
.venv and installs the package with JupyterLab at constraints.txt's versions, its
second starts JupyterLab. The clone is of the committed HEAD, as a reader gets it.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- without-make:start -->\n```sh\n(.*?)```\n<!-- without-make:end -->", re.S)
TOKEN = "without-make"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read(), urllib.parse.urlparse(response.geturl()).path


def test_readme_commands_without_make_work_in_a_fresh_clone(tmp_path):
    install, start = BLOCK.search((ROOT / "README.md").read_text()).group(1).strip().splitlines()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # A reader's shell: no virtualenv or conda environment active.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    done = subprocess.run(
        ["bash", "-c", install], cwd=clone, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check = "import helpers as h; print(h.exact_loss(h.make_model(dim=2, buckets=2, seed=0)))"
    subprocess.run([clone / ".venv" / "bin" / "python", "-c", check], cwd=tmp_path, check=True)

    port = free_port()
    env.update(JUPYTER_PORT=str(port), JUPYTER_TOKEN=TOKEN)
    # The README's command; a test machine also needs no browser and may run as root.
    options = " --no-browser" + (" --allow-root" if os.geteuid() == 0 else "")
    lab = subprocess.Popen(
        ["bash", "-c", start + options],
        cwd=clone,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                body, _ = get(f"{base}/api/contents?token={TOKEN}")
                break
            except OSError:
                assert lab.poll() is None, "JupyterLab exited early"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
                time.sleep(1)
        notebooks, _ = get(f"{base}/api/contents/notebooks?token={TOKEN}")
        _, landing = get(f"{base}/?token={TOKEN}")
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    assert {"README.md", "notebooks"} <= {item["name"] for item in json.loads(body)["content"]}
    assert any(item["name"] == "01_model.ipynb" for item in json.loads(notebooks)["content"])
    assert landing == "/lab/tree/notebooks"
