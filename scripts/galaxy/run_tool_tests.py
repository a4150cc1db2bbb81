#!/usr/bin/env python3
"""Run the Galaxy tool tests of galaxy_tool/ against a real, throw-away Galaxy server.

Writes a small galaxy.yml into a run folder (SQLite, fixed admin key, a tool_conf listing our tools,
the model data manager from galaxy_tool/data_manager_conf.xml, the fasta_indexes test table and an
empty splamflow_models table, job directories and TMPDIR inside the run folder, and a job
environment whose PATH starts with the project's .venv/bin so that jobs find splam_score.py),
starts `galaxy-web` on a free loopback port, creates a user (an administrator: data managers run
for administrators only) and its API key through the REST API, and runs `galaxy-tool-test` for
every tool. The data manager runs first: its test adds the stand-in model to the splamflow_models
table, which is then read back through the API (the row, and the converted file with its sidecar
where the row says), and score's test of an installed model uses that row. Stops the server by its
PID. Exits 0 only when every test passed. Run with the Python of the Galaxy venv (see
scripts/checks/galaxy_tests.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
TOOL_DIR = REPO / "galaxy_tool"
DATA_MANAGER = "splamflow_model_fetcher"
TOOLS = (DATA_MANAGER, "splamflow_extract", "splamflow_score", "splamflow_clean")
MODEL_TABLE = "splamflow_models"
# the row the data manager's test adds (scripts/galaxy/make_test_data.py writes its expected output)
STANDIN_ROW = ("standin_splam", "Splam stand-in (test)")
ADMIN_EMAIL = "admin@splamflow.test"
ADMIN_KEY = "splamflow-galaxy-test-admin-key"
USER_EMAIL = "tester@splamflow.test"
START_TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_tables(run: Path) -> tuple[Path, Path]:
    """The data table and data manager configurations of the run: fasta_indexes from test-data, and
    splamflow_models in a .loc of the run folder (the data manager appends to it, so not to the
    checkout's); galaxy_tool/data_manager_conf.xml with the tool path of the checkout."""
    loc = run / "tool-data" / f"{MODEL_TABLE}.loc"
    loc.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TOOL_DIR / "test-data" / f"{MODEL_TABLE}.loc", loc)
    tables = ET.parse(TOOL_DIR / "tool_data_table_conf.xml.test").getroot()
    for table in tables.iter("table"):
        file = table.find("file")
        path = file.get("path").replace("${__HERE__}", str(TOOL_DIR))
        file.set("path", str(loc) if table.get("name") == MODEL_TABLE else path)
    table_conf = run / "tool_data_table_conf.xml"
    ET.ElementTree(tables).write(table_conf)
    managers = ET.parse(TOOL_DIR / "data_manager_conf.xml").getroot()
    managers.set("tool_path", str(TOOL_DIR))
    manager_conf = run / "data_manager_conf.xml"
    ET.ElementTree(managers).write(manager_conf)
    return table_conf, manager_conf


def write_config(run: Path, project_venv: Path) -> Path:
    """Write galaxy.yml, tool_conf.xml and the table configurations into the run folder; return the
    galaxy.yml path."""
    tool_conf = run / "tool_conf.xml"
    tools = "\n".join(f'        <tool file="{name}.xml"/>' for name in TOOLS if name != DATA_MANAGER)
    tool_conf.write_text(
        f'<?xml version="1.0"?>\n<toolbox tool_path="{TOOL_DIR}">\n'
        f'    <section id="splam" name="Splam">\n{tools}\n    </section>\n</toolbox>\n'
    )
    table_conf, manager_conf = write_tables(run)
    data = run / "data"
    config = {
        "gravity": {"galaxy_root": str(run)},
        "galaxy": {
            "data_dir": str(data),
            "database_connection": f"sqlite:///{data}/universe.sqlite?isolation_level=IMMEDIATE",
            "database_auto_migrate": True,
            "file_path": str(data / "objects"),
            "new_file_path": str(run / "tmp"),
            "job_working_directory": str(run / "jobs"),
            "cache_dir": str(run / "cache"),
            "tool_config_file": str(tool_conf),
            "tool_data_table_config_path": str(table_conf),
            "tool_data_path": str(run / "tool-data"),
            "data_manager_config_file": str(manager_conf),
            "galaxy_data_manager_data_path": str(run / "dm-data"),
            "tool_dependency_dir": str(run / "dependencies"),
            "conda_auto_init": False,
            "conda_auto_install": False,
            "enable_mulled_containers": False,
            "watch_tools": False,
            "enable_celery_tasks": False,
            "admin_users": f"{ADMIN_EMAIL},{USER_EMAIL}",
            "bootstrap_admin_api_key": ADMIN_KEY,
            "id_secret": "splamflow-galaxy-test-id-secret",
            "allow_user_creation": True,
            "allow_path_paste": True,
            "cleanup_job": "onsuccess",
            "log_level": "INFO",
            "job_config": {
                "runners": {"local": {"load": "galaxy.jobs.runners.local:LocalJobRunner", "workers": 2}},
                "execution": {
                    "default": "local_venv",
                    "environments": {
                        "local_venv": {
                            "runner": "local",
                            "env": [{"name": "PATH", "value": f"{project_venv}/bin:$PATH"}],
                        }
                    },
                },
            },
        },
    }
    path = run / "galaxy.yml"
    # JSON is valid YAML: no YAML library needed here.
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def api(url: str, path: str, key: str, payload: dict | None = None) -> object:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{url}/api/{path}",
        data=data,
        headers={"x-api-key": key, "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read().decode())


def wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"galaxy-web exited with code {server.returncode}; see {log}")
        try:
            version = api(url, "version", ADMIN_KEY)
            print(f"Galaxy {version.get('version_major')}.{version.get('version_minor')} is up at {url}")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(2)
    raise SystemExit(f"Galaxy did not answer within {START_TIMEOUT_S} s; see {log}")


def create_user_key(url: str) -> str:
    user = api(url, "users", ADMIN_KEY, {"username": "tester", "email": USER_EMAIL, "password": "splamflow-test"})
    return str(api(url, f"users/{user['id']}/api_key", ADMIN_KEY, {}))


def stop(server: subprocess.Popen) -> None:
    """Stop the server we started by its PID, then any job process it left behind (the local job
    runner starts each job in a process group of its own)."""
    if server.poll() is not None:
        return
    jobs = psutil.Process(server.pid).children(recursive=True)
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)
    for job in jobs:
        if job.is_running():
            job.terminate()
    _, alive = psutil.wait_procs(jobs, timeout=10)
    for job in alive:
        job.kill()


def check_model_table(url: str, key: str) -> list[str]:
    """The row the data manager added, read through the API: its value and name, and at its path the
    converted model with the sidecar convert-model writes. Returns the failures."""
    table = api(url, f"tool_data/{MODEL_TABLE}", key)
    columns = table["columns"]
    rows = [dict(zip(columns, fields, strict=True)) for fields in table["fields"]]
    found = [r for r in rows if (r["value"], r["name"]) == STANDIN_ROW]
    if len(found) != 1:
        return [f"{MODEL_TABLE}: expected one row {STANDIN_ROW}, the table holds {rows}"]
    model = Path(found[0]["path"])
    sidecar = model.with_suffix(".json")
    if not model.is_file() or not sidecar.is_file():
        return [f"{MODEL_TABLE}: {model} or its sidecar {sidecar.name} is missing"]
    meta = json.loads(sidecar.read_text())
    if meta.get("version") != STANDIN_ROW[0] or "converted_from" not in meta or "source_sha256" not in meta:
        return [f"{MODEL_TABLE}: {sidecar} does not describe a conversion of the stand-in: {meta}"]
    print(f"{MODEL_TABLE}: row {STANDIN_ROW[0]} -> {model} ({model.stat().st_size:,} bytes, {meta['converted_from']})")
    return []


def summarize(results: Path) -> tuple[int, int, list[str]]:
    report = json.loads(results.read_text())
    passed, failed = 0, []
    for test in report.get("tests", []):
        status = test.get("data", {}).get("status")
        if status == "success":
            passed += 1
        else:
            failed.append(f"{test.get('id')}: {status}")
    return passed, len(failed), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=REPO / "runs" / "galaxy-tests")
    parser.add_argument("--project-venv", type=Path, default=REPO / ".venv")
    parser.add_argument("--tool", action="append", choices=TOOLS, help="only these tools (repeatable)")
    parser.add_argument("--parallel", type=int, default=2, help="tests run at once per tool")
    parser.add_argument("--test-index", type=int, action="append",
                        help="only the tool's test with this index, from 0 (repeatable; galaxy-tool-test -i)")
    args = parser.parse_args()
    # A CI timeout or Ctrl-C must still stop the server: turn SIGTERM into SystemExit.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    bin_dir = Path(sys.executable).parent
    run = args.run_dir.resolve()
    if run.exists():
        shutil.rmtree(run)
    # dm-data too: Galaxy mounts the data manager's folder into every container job, so it must exist
    # even when no data manager runs (--test-index)
    for sub in ("tmp", "jobs", "data", "results", "dm-data"):
        (run / sub).mkdir(parents=True)
    config = write_config(run, args.project_venv.resolve())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(TMPDIR=str(run / "tmp"), VIRTUAL_ENV=str(bin_dir.parent), PATH=f"{bin_dir}:{env.get('PATH', '')}")
    log = run / "galaxy.log"
    started = time.monotonic()
    with open(log, "w") as log_handle:
        server = subprocess.Popen(
            [str(bin_dir / "galaxy-web"), "-c", str(config), "-b", f"127.0.0.1:{port}"],
            cwd=run,
            env=env,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(f"galaxy-web PID {server.pid}, log {log}")
    failures: list[str] = []
    passed = failed = 0
    try:
        wait_for(url, server, log)
        print(f"started in {time.monotonic() - started:.0f} s")
        user_key = create_user_key(url)
        tools = list(args.tool or TOOLS)
        if "splamflow_score" in tools and DATA_MANAGER not in tools and not args.test_index:
            tools.insert(0, DATA_MANAGER)  # score's installed-model test uses the row it adds
        tools.sort(key=TOOLS.index)
        for tool, index in [(tool, index) for tool in tools for index in args.test_index or [None]]:
            label = tool if index is None else f"{tool}-{index}"
            results = run / "results" / f"{label}.json"
            t0 = time.monotonic()
            proc = subprocess.run(
                [
                    str(bin_dir / "galaxy-tool-test"),
                    "-u",
                    url,
                    "-k",
                    user_key,
                    "-a",
                    ADMIN_KEY,
                    "-t",
                    tool,
                    "--test-data",
                    str(TOOL_DIR / "test-data"),
                    "--with-reference-data",
                    "--parallel-tests",
                    str(args.parallel),
                    "-o",
                    str(run / "results" / label),
                    "-j",
                    str(results),
                    *([] if index is None else ["-i", str(index)]),
                ],
                env=env,
                check=False,
            )
            if results.exists():
                ok, bad, names = summarize(results)
            else:
                ok, bad, names = 0, 1, [f"{label}: galaxy-tool-test wrote no results (exit {proc.returncode})"]
            if proc.returncode != 0 and not bad:
                bad, names = 1, [f"{label}: galaxy-tool-test exited {proc.returncode}"]
            if tool == DATA_MANAGER and index in (None, 0):
                table_failures = check_model_table(url, user_key)
                ok, bad, names = ok + (not table_failures), bad + len(table_failures), names + table_failures
            passed, failed = passed + ok, failed + bad
            failures += names
            print(f"{label}: {ok} passed, {bad} failed in {time.monotonic() - t0:.0f} s")
    finally:
        stop(server)
    for name in failures:
        print(f"FAILED {name}")
    print(f"galaxy: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
