"""A non-editable install (a built wheel) carries the bundled practices and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_and_finds_the_practices(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    (wheel,) = wheels.glob("kindvoice-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "kindvoice/_data/meditations/self-compassion-break.md" in names
    assert "kindvoice/_data/meditations/TEMPLATE_FORMAT.md" in names
    assert "kindvoice/_data/meditations/courses/starter.yaml" in names  # course --plan starter
    for lang in ("es", "pt_BR", "fr", "it"):  # the web page's compiled catalogues
        assert f"kindvoice/web/locales/{lang}/LC_MESSAGES/messages.mo" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    # run from an unrelated folder so nothing can fall back to the source tree
    probe = (
        "import kindvoice, pathlib; from kindvoice.template.library import bundled_dir, "
        "list_practices; print(pathlib.Path(kindvoice.__file__).parent); print(bundled_dir()); "
        "print(' '.join(r.id for r in list_practices())); "
        "from kindvoice.publish.course import resolve_plan; print(resolve_plan('starter')); "
        # the web page in Spanish from the installed catalogues
        "import re, tempfile; from kindvoice.web import create_app; "
        "app = create_app(pathlib.Path(tempfile.mkdtemp())); "
        "page = app.test_client().get('/history', headers={'Accept-Language': 'es'}).text; "
        "print(re.search('<h1>(.*)</h1>', page).group(1)); "
        "app.extensions['kindvoice'].jobs.shutdown()"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    package_dir, data_dir, ids = Path(out[0]), Path(out[1]), out[2].split()
    assert package_dir.is_relative_to(target)
    assert data_dir.is_relative_to(target)
    assert "self-compassion-break" in ids
    assert Path(out[3]) == data_dir / "courses" / "starter.yaml"
    assert out[4] == "Historial de práctica"
