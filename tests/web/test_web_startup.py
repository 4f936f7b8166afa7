"""``serve`` where the database or the tokens cannot be used (issue 24 §3, class L of the
third probe): each was "Internal error" (exit 1) or a 500 on the listener's page later.
Now one line and exit 2 before the server starts, naming the file and the fix; a
tokens.json that holds no mapping is replaced by new tokens, with a warning."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from kindvoice.errors import UsageError
from kindvoice.web import create_app
from kindvoice.web.db import DB_NAME, TOKENS_NAME

from kv_testing import kindvoice


def serve(library: Path, *extra: str) -> str:
    """``kindvoice serve`` on ``library``, which must fail at once: its one line."""
    run = kindvoice("serve", "--library", str(library), "--port", "0", *extra, timeout=60)
    assert run.code == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
    assert "Internal error" not in lines[0]
    return lines[0]


def test_database_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).mkdir()
    assert f"The database {tmp_path / DB_NAME} is a folder" in serve(tmp_path)


def test_database_with_a_damaged_table_page(tmp_path: Path) -> None:
    """The header is fine, a table's root page is not: the server started and the
    listener's page answered 500 ("database disk image is malformed")."""
    app = create_app(tmp_path)  # a real database, then damage its second page
    app.extensions["kindvoice"].jobs.shutdown()
    app.extensions["kindvoice"].library.db.close()
    database = tmp_path / DB_NAME
    with sqlite3.connect(database) as check:
        page = int(check.execute("PRAGMA page_size").fetchone()[0])
    with open(database, "r+b") as raw:
        raw.seek(page)
        raw.write(b"\xa5" * page)
    line = serve(tmp_path)
    assert "database disk image is malformed" in line and "Move the file away" in line


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a read-only folder")
@pytest.mark.parametrize("existing", [False, True])
def test_read_only_data_folder(tmp_path: Path, existing: bool) -> None:
    """A read-only folder (root ignores permission bits, so a read-only bind mount):
    with no database yet, and with one made earlier."""
    library = tmp_path / "library"
    library.mkdir()
    if existing:
        app = create_app(library)
        app.extensions["kindvoice"].jobs.shutdown()
        app.extensions["kindvoice"].library.db.close()
    subprocess.run(["mount", "--bind", str(library), str(library)], check=True)
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(library)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        line = serve(library)
    finally:
        subprocess.run(["umount", "--lazy", str(library)], check=False)  # files may be open
    assert "the database" in line.lower() and str(library / DB_NAME) in line
    assert "--library" in line


def test_port_in_use(tmp_path: Path) -> None:
    """werkzeug printed two lines of its own and exited 1 (the code for a bug)."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = serve(tmp_path, "--port", str(port))
    assert f"Cannot listen on 127.0.0.1:{port}: Address already in use" in line


@pytest.mark.parametrize("kept", ["[1, 2]", "null", '"x"'])
def test_tokens_file_without_a_mapping_gets_new_tokens(tmp_path: Path, kept: str) -> None:
    (tmp_path / TOKENS_NAME).write_text(kept, encoding="utf-8")
    app = create_app(tmp_path)
    state = app.extensions["kindvoice"]
    state.jobs.shutdown()
    assert len(state.token) >= 16 and len(state.listener_token) >= 16
    assert state.token != state.listener_token


@pytest.mark.parametrize("kept", ['{"teacher": 12345}', '{"teacher": "a"}', '{"listener": []}'])
def test_tokens_file_with_a_weak_token_is_refused(tmp_path: Path, kept: str) -> None:
    """``--token`` needs 16 characters; a token kept in the file was taken as it was
    (a 5-digit number, one letter)."""
    (tmp_path / TOKENS_NAME).write_text(kept, encoding="utf-8")
    with pytest.raises(UsageError, match="must be at least 16 letters, digits"):
        create_app(tmp_path)
    line = serve(tmp_path)
    assert "--new-token" in line
