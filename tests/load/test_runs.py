"""The load and fault runs, in their short CI form: each a script that prints its counts, run here for real."""

import os
import re
import shutil
import subprocess
import sys

from tests.servers import PROJECT, postgres_bin
from tests.tools import missing, varnish_missing


def run_script(*arguments: str, timeout: int) -> str:
    for program in ("redis-server",):
        if not shutil.which(program):
            missing(f"{program} is not installed (Debian's redis-server package).")
    if reason := varnish_missing():  # both runs put Varnish in front of the app
        missing(reason)
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, *arguments], cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=timeout
    )
    print(result.stdout)  # the counts, in pytest's report when a check fails
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def test_fifty_readers_through_the_edge_get_only_whole_current_pages_while_articles_are_republished():
    output = run_script("tests/load/reader_load.py", "--readers", "50", "--seconds", "5", "--smoke", timeout=600)
    assert "errors: 0" in output
    assert "half-updated: 0" in output
    assert "stale after a publish: 0" in output
    assert "shown after an unpublish: 0" in output
    # Measured, not judged: 5 s on a busy CI machine is too few reads per change (the full run requires 99%).
    assert re.search(r"edge cache hit ratio over the load: \d+\.\d\d% \([1-9]\d* lookups\)", output)
    assert "result: pass" in output


def test_postgresql_restart_redis_stop_mail_outage_and_edge_faults_lose_nothing():
    try:
        postgres_bin("initdb")
    except FileNotFoundError as error:
        missing(str(error))
    output = run_script("tests/load/fault_run.py", "--quick", timeout=900)
    assert "lost edits: 0" in output
    assert "mails lost: 0" in output
    assert "delivered once it was up: 1" in output  # queued while the mail server was down, sent after
    assert "kept purge sent by send_purges: yes" in output  # the edge was down when the change committed
    assert "after recovery: pending 0  failing 0  page through the edge is the new one: yes" in output
    assert output.count("result: pass") == 5
