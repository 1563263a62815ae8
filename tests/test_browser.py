"""A real annotator in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`) on the
session's Label Studio, then `warta pull` and `warta export` must carry exactly what was clicked.

Steps: seeds pushed with pre-annotations -> an annotator joins through the organization's invite link and
logs in at /user/login/ in the browser -> "Label All Tasks" opens the first task with the instructions (from
annotation/guidelines.md) -> the text, every pre-annotated region and the stance choices are on screen ->
stance NONE for `Rusia` (screenshot) -> one region relabelled, one deleted -> Submit -> pull -> export ->
load_dataset.

The annotator signs up through the invite link (an HTTP post of the sign-up form) because Label Studio's
community API ignores `password` on `POST /api/users/`: a user made there cannot log in.

The browser must be installed (`bash scripts/browser_setup.sh`, run by `make test`); a missing browser
fails this test, it is never skipped. The labeling screen is saved to artifacts/labeling-screen.png.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import signal
import tempfile
import time
import uuid
from pathlib import Path

import datasets
import httpx
import pytest

from annotation.client import Connection
from annotation.export import export
from annotation.pull import Pseudonymizer, pull
from annotation.push import GUIDELINES, Pusher
from annotation.schema import ENTITY_CONTROL_NAME, control_name_for_target, load_schema
from dataset.pipeline import normalize_folder
from tests.helpers import ROOT, SEEDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The flags that work on a machine without a network (no Google hosts, no component updates).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1600,1200", "--lang=en-US")
ARTIFACTS = ROOT / "artifacts"
SCREENSHOT = ARTIFACTS / "labeling-screen.png"
BUDGET_SECONDS = 300  # the whole test body: push, browser, pull, export
WAIT_SECONDS = 45     # one UI condition (the first page load of the React app is the slowest)
PASSWORD = "not-a-real-pass-1"
SCHEMA = load_schema()

TEXT = ".lsf-richtext"
HIGHLIGHT = ".lsf-richtext .htx-highlight"
REGION_ITEM = ".lsf-tree__node_type_richtextregion"
LABEL_BUTTON = ".lsf-label"
INSTRUCTIONS_MODAL = ".lsf-modal-ls_visible"
TASK_ID = ".lsf-current-task__task-id"
SUBMIT = "[data-testid=bottombar-submit-button]"
TOOLTIP = "[data-testid=tooltip]"


@contextlib.contextmanager
def budget(seconds: int):
    """A global timeout: a hung browser or server fails the test instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError(f"the browser test took longer than its {seconds}s budget")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def browser(tmp_path, monkeypatch):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: install Debian's chromium and chromium-driver "
                    "(bash scripts/browser_setup.sh; make test runs it)", pytrace=False)
    # Selenium Manager is skipped when the driver path is given; keep it offline if anything calls it.
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log")),
                              options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@contextlib.contextmanager
def evidence_on_failure(driver, name: str):
    """Keep the screen and the DOM of a failed step in artifacts/ to see what the browser saw."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            ARTIFACTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(ARTIFACTS / f"{name}-failure.png"))
            (ARTIFACTS / f"{name}-failure.html").write_text(driver.page_source, encoding="utf-8")
        raise


def join_with_invite(url: str, invite_url: str, email: str) -> None:
    """Sign up through the organization's invite link, as the sign-up page's form does."""
    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get(invite_url)
        page.raise_for_status()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        action = re.search(r'<form id="signup-form"\s+action="([^"]+)"', page.text).group(1)
        answer = http.post(html.unescape(action), headers={"Referer": f"{url}{invite_url}"},
                           data={"csrfmiddlewaretoken": csrf, "email": email, "password": PASSWORD})
        assert answer.status_code == 302, f"sign-up refused ({answer.status_code}): {answer.text[:500]}"


def spans_of(result: list[dict]) -> set[tuple[int, int, str]]:
    return {(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in result if r.get("from_name") == ENTITY_CONTROL_NAME}


def stances_of(result: list[dict]) -> dict[str, list[str]]:
    return {r["from_name"]: r["value"]["choices"] for r in result if r.get("type") == "choices"}


def squeeze(text: str) -> str:
    return " ".join(text.split())


def test_annotator_labels_in_the_browser_and_pull_export_carry_it(labelstudio, browser, tmp_path, capsys,
                                                                   record_property):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    driver = browser
    wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))

    def highlights() -> list[tuple[int, int, str, str]]:
        """(start, end, label, surface) of every region drawn in the text, read from the DOM."""
        return [(int(e.get_attribute("data-start")), int(e.get_attribute("data-end")),
                 e.get_attribute("data-label").split(":", 1)[1], e.text)
                for e in driver.find_elements(By.CSS_SELECTOR, HIGHLIGHT)]

    def highlight(start: int, end: int):
        return driver.find_element(By.CSS_SELECTOR, f'{HIGHLIGHT}[data-start="{start}"][data-end="{end}"]')

    def select_region(start: int, end: int):
        element = highlight(start, end)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()
        wait.until(lambda d: "__active" in highlight(start, end).get_attribute("class"), "region not selected")

    def stance_box(target: str, choice: str, part: str = "label"):
        header = f"//h4[normalize-space()={json.dumps(target)}]"
        return driver.find_element(By.XPATH, f"{header}/following-sibling::div[contains(@class, 'lsf-choices')][1]"
                                             f"//label[.//input[@name={json.dumps(choice)}]]"
                                             + ("//input" if part == "input" else ""))

    with budget(BUDGET_SECONDS):
        # 1. Seeds -> store -> a fresh project with pre-annotations (and the guidelines as instructions).
        store = tmp_path / "store"
        release = normalize_folder(SEEDS, store).release
        title = f"browser test {uuid.uuid4().hex[:8]}"
        connection = Connection(labelstudio.url, labelstudio.token)
        project_id = Pusher(connection, SCHEMA, state_dir=store).push(release, title).project_id
        client = connection.client()
        tasks = {t.id: t for t in client.tasks.list(project=project_id, fields="all")}
        assert len(tasks) == len(list(SEEDS.glob("*.txt")))

        # 2. The annotator joins through the invite link, then logs in in the browser.
        email = f"annotator.{uuid.uuid4().hex[:8]}@example.org"
        join_with_invite(labelstudio.url, client.organizations.invites.get_invite_link().invite_url, email)
        with evidence_on_failure(driver, "login"):
            driver.get(f"{labelstudio.url}/user/login/")
            wait.until(EC.visibility_of_element_located((By.ID, "email"))).send_keys(email)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
            wait.until(lambda d: "/user/login" not in d.current_url, "login was refused")
        annotator = next(u for u in client.users.list() if u.email == email)

        # 3. "Label All Tasks": instructions first, then the task with its text, regions and stance choices.
        with evidence_on_failure(driver, "labeling"):
            driver.get(f"{labelstudio.url}/projects/{project_id}/data?labeling=1")
            modal = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, INSTRUCTIONS_MODAL)),
                               "the instructions did not open")
            instructions = modal.find_element(By.CSS_SELECTOR, ".lsf-modal-ls__body").text
            first_line = GUIDELINES.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
            assert first_line in instructions, instructions[:300]
            assert "**" not in instructions and "| ---" not in instructions, "the guidelines are shown as raw Markdown"
            modal.find_element(By.CSS_SELECTOR, "button[aria-label='Close modal']").click()
            wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, INSTRUCTIONS_MODAL)))

            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, HIGHLIGHT), "no pre-annotated region appeared")
            task_id = int(driver.find_element(By.CSS_SELECTOR, TASK_ID).text.split()[0])
            task = tasks[task_id]
            assert squeeze(driver.find_element(By.CSS_SELECTOR, TEXT).text) == squeeze(task.data["text"])
            predicted = spans_of(task.predictions[0].result)
            shown = highlights()
            assert {(s, e, label) for s, e, label, _ in shown} == predicted
            assert all(surface == task.data["text"][s:e] for s, e, _, surface in shown)
            listed = [e.text for e in driver.find_elements(By.CSS_SELECTOR, REGION_ITEM)]
            first_person = min((s, e) for s, e, label in predicted if label == "PER")
            assert any(task.data["text"][slice(*first_person)] in item for item in listed), listed
            for target in SCHEMA.stance_targets:
                for choice in SCHEMA.stance_choices:
                    assert stance_box(target, choice).is_displayed(), (target, choice)

            # 4. Choose a stance (NONE for Rusia); the screen is saved here, with the pre-annotation accepted.
            none_rusia = stance_box("Rusia", "NONE")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", none_rusia)
            none_rusia.click()
            wait.until(lambda d: stance_box("Rusia", "NONE", "input").is_selected(), "stance not chosen")
            ActionChains(driver).move_to_element(driver.find_element(By.XPATH, "//h4[normalize-space()='Rusia']")).perform()
            wait.until(lambda d: not any(t.is_displayed() for t in d.find_elements(By.CSS_SELECTOR, TOOLTIP)))
            ARTIFACTS.mkdir(exist_ok=True)
            assert driver.save_screenshot(str(SCREENSHOT)), "the screenshot was not written"
            record_property("screenshot", str(SCREENSHOT))
            with capsys.disabled():
                print(f"\n[browser] labeling screen saved to {SCREENSHOT}")

            # 5. Fix the pre-annotation: relabel the first region, delete the last one; then submit.
            ordered = sorted(predicted)
            relabel_start, relabel_end, old_label = ordered[0]
            new_label = "LOC" if old_label != "LOC" else "GPE"
            select_region(relabel_start, relabel_end)
            next(b for b in driver.find_elements(By.CSS_SELECTOR, LABEL_BUTTON) if b.text.split()[0] == new_label).click()
            wait.until(lambda d: highlight(relabel_start, relabel_end).get_attribute("data-label").endswith(f":{new_label}"),
                       "the region kept its old label")
            ActionChains(driver).send_keys(Keys.ESCAPE).perform()
            wait.until(lambda d: "__active" not in highlight(relabel_start, relabel_end).get_attribute("class"))
            delete_start, delete_end, _ = ordered[-1]
            select_region(delete_start, delete_end)
            ActionChains(driver).send_keys(Keys.BACKSPACE).perform()
            wait.until(lambda d: not d.find_elements(
                By.CSS_SELECTOR, f'{HIGHLIGHT}[data-start="{delete_start}"][data-end="{delete_end}"]'),
                "the region was not deleted")
            expected = (predicted - {ordered[0], ordered[-1]}) | {(relabel_start, relabel_end, new_label)}
            assert {(s, e, label) for s, e, label, _ in highlights()} == expected
            assert stance_box("Rusia", "NONE", "input").is_selected()

            driver.find_element(By.CSS_SELECTOR, SUBMIT).click()
            wait.until(lambda d: (d.find_elements(By.CSS_SELECTOR, TASK_ID) or [None])[0] is None
                       or d.find_element(By.CSS_SELECTOR, TASK_ID).text.split()[:1] != [str(task_id)],
                       "the task was not submitted")
            deadline = time.monotonic() + WAIT_SECONDS
            while not client.tasks.get(task_id).annotations and time.monotonic() < deadline:
                time.sleep(0.2)

        # 6. Pull sees exactly that annotation, pseudonymized; export puts it into `ner` and `stance`.
        annotations_dir = tmp_path / "annotations"
        run = pull(connection, title, annotations_dir)
        assert run.counts["annotations"] == 1 and run.counts["cancelled"] == 0 and run.counts["annotators"] == 1
        [row] = run.release.read_table("annotations").to_pylist()
        assert row["task_id"] == task_id and row["article_id"] == task.data["article_id"]
        assert row["annotator"] == Pseudonymizer.for_folder(annotations_dir)(annotator.email)
        assert row["annotator"].startswith("annotator-") and email not in json.dumps(row, default=str)
        result = json.loads(row["result"])
        assert spans_of(result) == expected
        assert stances_of(result) == {control_name_for_target("Rusia"): ["NONE"]}

        hf_dir = tmp_path / "hf"
        export(store, annotations_dir, hf_dir, SCHEMA)
        article = task.data["article_id"]
        ner = datasets.load_dataset(str(hf_dir), "ner", cache_dir=tempfile.mkdtemp(dir=tmp_path))
        [ner_row] = [r for split in ner.values() for r in split if r["id"] == article]
        label_names = list(SCHEMA.entity_labels)
        assert {(s["start"], s["end"], label_names[s["label"]]) for s in ner_row["spans"]} == expected
        assert ner_row["annotators"] == 1 and ner_row["text"] == task.data["text"]
        stance = datasets.load_dataset(str(hf_dir), "stance", cache_dir=tempfile.mkdtemp(dir=tmp_path))
        rows = [r for split in stance.values() for r in split if r["article_id"] == article]
        names = next(iter(stance.values())).features["stance"].names
        assert [(r["target"], names[r["stance"]]) for r in rows] == [("Rusia", "NONE")]

    with capsys.disabled():
        print(f"[browser] task {task_id}: {len(expected)} regions and 1 stance went UI -> pull -> export "
              f"in {time.monotonic() - started:.1f}s")
