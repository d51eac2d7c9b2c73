"""The dashboard: levers as --set overrides, lazy imports, default bind address, and an
end-to-end test in a real browser (Debian's Chromium driven by Playwright).

The browser test starts `python -m diaspora_sim dashboard` on a free port, loads the page, picks a
scenario file, raises Russia's IT lure, runs, and checks that the plotted return rate rose and
equals `python -m diaspora_sim run` with the same settings and seed. Screenshots are saved in the
test's temporary folder (printed at the start; pytest shows it on failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from diaspora_sim.cli import build_parser
from diaspora_sim.dashboard import levers
from diaspora_sim.dashboard.cli import free_port

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


def test_default_bind_address_is_loopback():
    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1"


def test_help_does_not_import_solara():
    code = (
        "import sys\nfrom diaspora_sim.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m.startswith(('solara', 'mesa.visualization', 'playwright'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_group_levers_become_set_overrides():
    groups = {"eu": ["DE", "FI"], "near_abroad": ["GE"]}
    out = levers.overrides({("eu", "entry.visa_approval"): 0.3, (levers.RUSSIA, "russia.it_lure"): 2.0,
                            ("near_abroad", "economy.bank_accounts"): False}, groups)
    assert out == ["hosts.DE.entry.visa_approval=0.3", "hosts.FI.entry.visa_approval=0.3",
                   "hosts.GE.economy.bank_accounts=false", "russia.it_lure=2"]


# --------------------------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------------------------


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed (apt-get install chromium; .ci/run does it): the browser tests need it")
    return exe


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "dashboard.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "diaspora_sim", "dashboard", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"dashboard did not start; log: {log}\n{log.read_text()}")
                time.sleep(0.3)
        yield proc, port, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_server_listens_on_loopback_only(server):
    proc, port, _ = server
    pids = {proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))}
    bound = {c.laddr.ip for c in psutil.net_connections("inet")
             if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid in pids | {None}}
    assert bound == {"127.0.0.1"}


@pytest.fixture
def page(server, tmp_path):
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    print(f"screenshots in {tmp_path}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1500, "height": 1000})
        pg.goto(server[2])
        pg.wait_for_selector(".run-button", timeout=30000)
        try:
            yield pg
        finally:
            pg.screenshot(path=str(tmp_path / "last.png"), full_page=True)
            browser.close()


def _load_file(pg, path: Path) -> None:
    pg.get_by_label("Or a scenario file (path)").fill(str(path))
    pg.click(".load-file")


def _page_data(pg, timeout: float = 30000) -> dict:
    pg.wait_for_function(
        "() => { const e = document.querySelector('.dashboard-data'); return e && JSON.parse(e.textContent).complete; }",
        timeout=timeout,
    )
    return json.loads(pg.locator(".dashboard-data").text_content())


def test_bad_file_shows_check_message_and_page_keeps_working(page, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nrussia:\n  it_lure: -1\n")
    expected = subprocess.run([sys.executable, "-m", "diaspora_sim", "check", str(bad)], capture_output=True,
                              text=True, cwd=ROOT).stderr.strip()
    _load_file(page, bad)
    page.wait_for_selector(".scenario-error", timeout=10000)
    assert page.locator(".scenario-error").text_content().strip() == expected
    page.screenshot(path=str(tmp_path / "bad_file.png"), full_page=True)
    _load_file(page, BASELINE)  # a good file still loads
    page.wait_for_selector(".scenario-error", state="detached", timeout=10000)


def test_lever_raises_returns_and_matches_command_line(page, tmp_path):
    _load_file(page, BASELINE)
    page.wait_for_selector("text=Active: Baseline 2022", timeout=10000)
    slider = page.locator(".lever", has_text="IT lure").locator("[role=slider]")
    slider.focus()
    slider.press("End")  # the slider's maximum: 5 utility units
    page.wait_for_selector(".lever:has-text('IT lure') >> text=(changed)", timeout=10000)
    started = time.perf_counter()
    page.click(".run-button")
    page.wait_for_selector(".panel-rates img", timeout=30000)
    print(f"first result {time.perf_counter() - started:.1f} s after pressing run")
    data = _page_data(page)
    page.screenshot(path=str(tmp_path / "after_run.png"), full_page=True)
    assert data["request"]["overrides"] == ["russia.it_lure=5"]
    end = data["end"]
    assert end["changed"]["mean_return_rate"] > end["baseline"]["mean_return_rate"]
    assert end["changed"]["seeds"] == end["baseline"]["seeds"] == [1, 2, 3, 4, 5]

    out = tmp_path / "cli_run"
    subprocess.run([sys.executable, "-m", "diaspora_sim", "run", str(BASELINE), "--set", "russia.it_lure=5",
                    "--seed", "1", "--out", str(out), "--no-figures", "--quiet"], check=True, cwd=ROOT,
                   env={**os.environ})
    cli = json.loads((out / "summary.json").read_text())
    assert end["changed"]["return_rate"][0] == pytest.approx(cli["return_rate"], abs=1e-9)
    assert end["changed"]["integration_rate"][0] == pytest.approx(cli["integration_rate"], abs=1e-9)

    # an identical request comes from the cache
    page.click(".run-button")
    page.wait_for_selector("text=from the cache", timeout=15000)
    assert _page_data(page)["end"] == end
