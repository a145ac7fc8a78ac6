"""Start a JupyterLab for a test, wait until it answers, list what it serves, stop it."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url):
    """The JSON body at url, and the path it ended at after redirects."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response), urllib.parse.urlparse(response.geturl()).path


def landing_path(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return urllib.parse.urlparse(response.geturl()).path


def serve_and_list(command, cwd, env, token, name, timeout=90):
    """Run `command`, a JupyterLab started the reader's way, on a free port; stopped whatever
    happens. Returns (the root's contents, notebooks/'s contents, the landing page's path)."""
    port = free_port()
    env = {**env, "JUPYTER_PORT": str(port), "JUPYTER_TOKEN": token}
    lab = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                root, _ = get_json(f"{base}/api/contents?token={token}")
                break
            except OSError:
                assert lab.poll() is None, f"{name} exited early"
                assert time.monotonic() < deadline, f"JupyterLab did not answer within {timeout} s"
                time.sleep(1)
        notebooks, _ = get_json(f"{base}/api/contents/notebooks?token={token}")
        landing = landing_path(f"{base}/?token={token}")
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    names = [{item["name"] for item in listing["content"]} for listing in (root, notebooks)]
    return names[0], names[1], landing
