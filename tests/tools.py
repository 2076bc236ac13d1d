"""What tests do when a tool or service they need is missing: skip here, fail under CI=true."""

import glob
import os
import shutil
import socket

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # a database of its own, emptied by nobody


def missing(message: str):
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def varnish_missing() -> str | None:
    """Why Varnish with xkey cannot run here (Debian's varnish and varnish-modules), or None when it can."""
    if not shutil.which("varnishd") and not os.path.exists("/usr/sbin/varnishd"):
        return "varnishd is not installed: apt-get install varnish varnish-modules (.ci/system-packages does)"
    if not glob.glob("/usr/lib/*/varnish/vmods/libvmod_xkey.so") + glob.glob("/usr/lib/varnish/vmods/libvmod_xkey.so"):
        return "Varnish's xkey module is not installed: apt-get install varnish-modules (.ci/system-packages does)"
    return None
