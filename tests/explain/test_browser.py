"""The explain HTML page in a real headless browser (Debian's chromium; skipped without it).

The screenshot is kept as an artifact under ``artifacts/`` at the repository root.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deltarule.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def run_chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "explain.html"
    assert main(["explain", "--format", "html", "--steps", "1000", "--out", str(path)]) == 0
    return path


def test_page_renders_its_diagrams_without_console_errors(page, tmp_path) -> None:
    result = run_chromium(page, tmp_path, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_errors(result.stderr) == []
    dom = result.stdout
    assert len(re.findall(r"<svg\b", dom)) >= 3  # before, after, error curve
    assert "0.298371109" in dom and "w5" in dom


def test_screenshot_is_kept_as_an_artifact(page, tmp_path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "explain-page.png"
    shot.unlink(missing_ok=True)
    result = run_chromium(page, tmp_path, "--window-size=1200,1800", f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real, non-blank picture


def test_a_broken_script_would_be_caught(page, tmp_path) -> None:
    broken = tmp_path / "broken.html"
    html = page.read_text().replace("</body>", "<script>undefinedFunction();</script></body>")
    broken.write_text(html)
    result = run_chromium(broken, tmp_path, "--dump-dom")
    assert any("undefinedFunction" in line for line in console_errors(result.stderr))


def test_numbers_in_a_table_stay_on_one_line(tmp_path) -> None:
    # (a visual QA pass: at 1,400 px, "5.377481e-07" broke into "5.377481e-" and "07")
    from deltarule.explain.html import page as html_page

    cells = "".join(f"<td><span>{v:.6e}</span></td>" for v in [5.377481e-07, 8.1e-06] * 12)
    probe = (  # (the lines each number's text takes)
        "<script>window.onload = () => { const n = [...document.querySelectorAll('td span')]"
        ".map(s => s.getClientRects().length); document.body.setAttribute("
        "'data-lines', JSON.stringify(n)); };</script>"
    )
    path = tmp_path / "table.html"
    path.write_text(html_page("table", [f"<table><tr>{cells}</tr></table>", probe]))
    result = run_chromium(path, tmp_path, "--window-size=800,600", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-lines="\[([^\]]*)\]"', result.stdout)
    assert found is not None, result.stdout[-500:]
    lines = [int(n) for n in found.group(1).split(",")]
    assert len(lines) == 24 and set(lines) == {1}
