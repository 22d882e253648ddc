"""The practitioners' workspace in a real browser (headless Chromium), against a real suite.

scripts/browser-test.sh starts the suite and the workspace with deploy/local/run-suite.sh and runs
this with WORKSPACE_URL, WORKSPACE_ACCOUNTS (the accounts the script printed) and
WORKSPACE_SHOTS (where each page's screenshot goes). Every page is checked with axe-core: no
serious or critical violation passes.
"""
import importlib.util
import json
import os
import re
import time
import unittest
import urllib.error
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("WORKSPACE_URL", "http://127.0.0.1:7300").rstrip("/")
SHOTS = os.environ.get("WORKSPACE_SHOTS", "/tmp/workspace-shots")
ACCOUNTS = dict(re.findall(r"^\s*(\S+) \([^)]*\): (\S+)\s*$", os.environ.get("WORKSPACE_ACCOUNTS", ""), re.M))
AXE_REPORT = []
# axe-selenium-python drives axe-core; the axe-core it bundles (3.x) predates WCAG 2.2, so the
# check runs the axe-core 4.12 that axe-playwright-python ships (installed without playwright).
AXE_SCRIPT = os.path.join(os.path.dirname(importlib.util.find_spec("axe_playwright_python").origin), "axe.min.js")
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}


def browser():
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600", "--lang=en-GB"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-GB"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.implicitly_wait(0)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


class Workspace(unittest.TestCase):
    case_url = None

    @classmethod
    def setUpClass(cls):
        os.makedirs(SHOTS, exist_ok=True)
        assert len(ACCOUNTS) >= 4, f"run-suite.sh printed no local accounts: {ACCOUNTS}"

    def setUp(self):
        self.driver = browser()

    def tearDown(self):
        # Where each test ended, whatever its outcome: the page and its source, for a failure's
        # diagnosis (CI keeps only the log otherwise).
        try:
            self.driver.save_screenshot(os.path.join(SHOTS, f"last-{self._testMethodName}.png"))
            with open(os.path.join(SHOTS, f"last-{self._testMethodName}.html"), "w") as out:
                out.write(f"<!-- {self.driver.current_url} -->\n" + self.driver.page_source)
        finally:
            self.driver.quit()

    # --- helpers -----------------------------------------------------------------------------

    def page(self, name, full=True):
        """Screenshot (the whole page) and axe check of the page as it is now."""
        d = self.driver
        if full:
            height = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(1280, min(max(900, height + 100), 12000))
        d.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        d.set_window_size(1280, 1600)
        axe = Axe(d, script_url=AXE_SCRIPT)
        axe.inject()
        results = axe.run(options=AXE_OPTIONS)
        self.assertIn("4.12", results["testEngine"]["version"])
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        AXE_REPORT.append({"page": name, "url": d.current_url, "violations": len(results["violations"]), "serious_or_critical": len(bad)})
        self.assertEqual(bad, [], f"{name}: axe found serious or critical violations: " + json.dumps([(v['id'], v['help'], [n['target'] for n in v['nodes']]) for v in bad], indent=1))

    def sign_in(self, username, password=None):
        d = self.driver
        d.get(BASE + "/sign-in")
        d.find_element(By.ID, "username").send_keys(username)
        d.find_element(By.ID, "password").send_keys(password if password is not None else ACCOUNTS[username])
        self.submit(d.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button"))

    def submit(self, button, key=None):
        """Clicks (or presses `key` on) a submit button and waits for the page it leads to."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        if key is None:
            button.click()
        else:
            button.send_keys(key)
        WebDriverWait(self.driver, 30).until(expected_conditions.staleness_of(old))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def tab_to(self, element_id, limit=400):
        """Moves focus with the Tab key alone until the element has it."""
        d = self.driver
        body = d.switch_to.active_element
        for _ in range(limit):
            if d.switch_to.active_element.get_attribute("id") == element_id:
                return d.switch_to.active_element
            d.switch_to.active_element.send_keys(Keys.TAB)
        self.fail(f"{element_id} cannot be reached with the Tab key")

    def type_date(self, name, day, month, year):
        """A date as the GOV.UK date input asks for it: day, month and year fields, by Tab."""
        self.tab_to(name).send_keys(str(day))
        self.tab_to(name + ".month").send_keys(str(month))
        self.tab_to(name + ".year").send_keys(str(year))

    def open_case(self):
        """The case test 3 made through the form (made here when run alone), signed in as its screener."""
        if Workspace.case_url is None:
            self.submit_referral_by_keyboard()
        else:
            self.sign_in("mash.screener")
        return Workspace.case_url

    # --- the journeys ---------------------------------------------------------------------------

    def test_1_sign_in_and_work_tray(self):
        d = self.driver
        d.get(BASE + "/tray")
        self.assertTrue(d.current_url.endswith("/sign-in"), "an unsigned browser is sent to sign in")
        self.assertIsNone(d.get_cookie("hsb_session"), "no session exists before someone signs in")
        self.page("sign-in")
        self.sign_in("mash.screener")
        self.assertTrue(d.current_url.endswith("/tray"), d.current_url)
        self.assertIn("Work tray", self.text())
        self.assertIn("mash.screener, Children's social care", self.text())
        cookie = d.get_cookie("hsb_session")
        self.assertTrue(cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict", cookie)
        self.page("work-tray")

    def submit_referral_by_keyboard(self):
        """Submits a referral with the keyboard alone: Tab to each field, type, Space, Enter."""
        d = self.driver
        self.sign_in("mash.screener")
        d.get(BASE + "/referrals/new")
        self.tab_to("child.subject_id").send_keys("web-child-1")
        self.tab_to("child.given_name").send_keys("Sam")
        self.type_date("child.date_of_birth", 10, 3, 2012)
        self.type_date("incident_date", 10, 11, 2026)
        # The behaviours of the child's band appear when asked for (no script needed).
        button = d.find_element(By.CSS_SELECTOR, "button[value=behaviours]")
        self.submit(self.tab_to_element(button), Keys.ENTER)
        self.assertIn("from the Brook traffic light tool for ages 13-17", self.text())
        self.assertEqual(d.find_element(By.ID, "child.subject_id").get_attribute("value"), "web-child-1", "the form keeps what was typed")
        red8 = d.find_element(By.CSS_SELECTOR, "input[name=behaviours][value='brook/13-17/red/8']")
        self.tab_to_element(red8).send_keys(Keys.SPACE)
        self.tab_to("harm_indicators").send_keys(Keys.SPACE)
        self.tab_to("harmed1.subject_id").send_keys("web-harmed-1")
        self.type_date("harmed1.date_of_birth", 1, 6, 2014)
        self.tab_to("referrer").send_keys("Designated safeguarding lead, a secondary school")
        self.tab_to("incident_details").send_keys("The younger pupil was pressured into sexual activity.")
        self.tab_to("victim_vulnerability").send_keys("Two years younger.")
        self.tab_to("coercion_evidence").send_keys("A witness heard threats.")
        self.tab_to("referrer_assessed_risk").send_keys("high")
        self.tab_to("other_children_may_be_at_risk").send_keys("y")
        self.tab_to("parents_told").send_keys("y")
        self.tab_to("sexual_activity").send_keys(Keys.SPACE)
        self.tab_to("significant_harm_suspected").send_keys(Keys.SPACE)
        submit = d.find_element(By.CSS_SELECTOR, "button[value=submit]")
        self.submit(self.tab_to_element(submit), Keys.ENTER)
        self.assertRegex(d.current_url, r"/cases/case-[0-9a-f-]+$", self.text()[:2000])
        Workspace.case_url = d.current_url
        return d.current_url

    def tab_to_element(self, element, limit=400):
        d = self.driver
        for _ in range(limit):
            if d.switch_to.active_element == element:
                return element
            d.switch_to.active_element.send_keys(Keys.TAB)
        self.fail(f"{element.get_attribute('outerHTML')[:80]} cannot be reached with the Tab key")

    def test_2_referral_form_errors_name_their_fields(self):
        d = self.driver
        self.sign_in("mash.screener")
        d.get(BASE + "/referrals/new")
        self.page("new-referral")
        d.find_element(By.ID, "child.subject_id").send_keys("web-child-2")
        d.find_element(By.ID, "harmed1.date_of_birth").send_keys("31")
        d.find_element(By.ID, "harmed1.date_of_birth.month").send_keys("2")
        d.find_element(By.ID, "harmed1.date_of_birth.year").send_keys("2014")
        self.submit(d.find_element(By.CSS_SELECTOR, "button[value=submit]"))
        summary = d.find_element(By.CSS_SELECTOR, ".error-summary")
        links = {a.get_attribute("hash"): a.text for a in summary.find_elements(By.TAG_NAME, "a")}
        self.assertIn("#child.date_of_birth", links)
        self.assertIn("#referrer", links)
        self.assertIn("#parents_told", links)
        self.assertIn("#behaviours", links)
        self.assertIn("must be a real date", links.get("#harmed1.date_of_birth", ""), links)
        self.assertEqual(d.find_element(By.ID, "harmed1.date_of_birth").get_attribute("value"), "31", "the form keeps what was typed")
        self.assertTrue(d.title.startswith("Error: "), d.title)
        # Each link takes the practitioner to its field.
        summary.find_element(By.CSS_SELECTOR, "a[href='#referrer']").click()
        self.assertEqual(d.switch_to.active_element.get_attribute("id"), "referrer")
        self.page("new-referral-errors")

    def test_3_submit_referral_and_see_the_decision(self):
        d = self.driver
        url = self.submit_referral_by_keyboard()
        text = self.text()
        self.assertIn("Referral taken", text)
        self.assertIn("web-child-1, the child displaying HSB", text)
        self.assertIn("Deadlines", text)
        self.assertIn("Convene the HSB strategy meeting", text)
        self.assertIn("Why: the screening decision", text)
        # Every rule ID links to its rule, and the rule page gives the clause of the procedures.
        rule = d.find_element(By.CSS_SELECTOR, "a[href='/rules/SCR-08']")
        self.page("case")
        self.submit(rule)
        self.assertIn("SCR-08", self.text())
        self.assertIn("Camden Safeguarding Children Partnership HSB protocol 2023", self.text())
        self.page("rule")
        d.get(BASE + "/rules")
        self.page("rules")
        d.get(url)

    def test_4_record_strategy_meeting_closes_its_task(self):
        d = self.driver
        url = self.open_case()
        d.get(url + "/events/strategy-meeting")
        closes = d.find_element(By.CSS_SELECTOR, ".panel").text
        self.assertIn("Convene the HSB strategy meeting", closes, "the form says which tasks it closes")
        self.page("event-strategy-meeting")
        for box in ["invited.social-care", "attended.social-care", "invited.police", "attended.police", "invited.youth-justice",
                    "attended.youth-justice", "invited.health", "report.health", "invited.education", "attended.education"]:
            d.find_element(By.ID, box).click()
        # A school attends as the school of a named pupil (STR-03): the form starts with the case's child.
        self.assertEqual(d.find_element(By.ID, "pupil.education").get_attribute("value"), "web-child-1")
        Select(d.find_element(By.ID, "outcome")).select_by_value("section-47-joint")
        d.find_element(By.ID, "significant_harm").click()
        d.find_element(By.ID, "safety_plan_agreed").click()
        d.find_element(By.ID, "mappa_referral_considered").click()
        d.find_element(By.ID, "exploitation_referral_considered").click()
        self.submit(d.find_element(By.CSS_SELECTOR, "form button[type=submit].button"))
        self.assertEqual(d.current_url, url)
        text = self.text()
        self.assertIn("Recorded: strategy meeting held.", text)
        self.assertIn("Closed: Convene the HSB strategy meeting", text)
        rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "table tr") if "Convene the HSB strategy meeting" in r.text]
        self.assertTrue(rows and all("DONE" in r.upper() for r in rows), rows)
        self.page("case-after-strategy-meeting")
        # A task no event closes is marked done from its row (SCR-18: the assessment signed off).
        row = next(r for r in d.find_elements(By.CSS_SELECTOR, "table tr") if "Complete the child and family assessment" in r.text)
        self.submit(row.find_element(By.CSS_SELECTOR, "form.task-done button"))
        self.assertIn("Marked done: Complete the child and family assessment.", self.text())
        row = next(r for r in d.find_elements(By.CSS_SELECTOR, "table tr") if "Complete the child and family assessment" in r.text)
        self.assertIn("DONE", row.text.upper())
        self.assertEqual(row.find_elements(By.CSS_SELECTOR, "form.task-done"), [])

    def test_5_another_agency_sees_only_need_to_know(self):
        d = self.driver
        url = self.open_case()
        d.delete_all_cookies()
        self.sign_in("camhs.clinician")
        d.get(url)
        text = self.text()
        self.assertIn("Withheld from you (need to know, INF-04)", text)
        self.assertNotIn("The younger pupil was pressured", text)
        self.assertNotIn("Sam", text)
        self.page("case-need-to-know")
        # CAMHS may not mark social care's tasks done: no button is offered.
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "form.task-done"), [])
        # CAMHS does not record a strategy meeting: the form is not offered, and refused if asked.
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "a[href$='/events/strategy-meeting']"), [])
        d.get(url + "/events/strategy-meeting")
        self.assertIn("Not for your agency", self.text())

    def test_6_wrong_password_locks_out(self):
        d = self.driver
        for attempt in range(5):
            self.sign_in("police.officer", "not-the-password")
        self.assertIn("locked until", self.text())
        self.page("sign-in-locked")
        self.sign_in("police.officer")
        self.assertIn("locked until", self.text(), "the right password is refused while the account is locked")
        self.assertTrue(d.current_url.endswith("/sign-in"))

    def test_7_form_without_csrf_token_is_refused(self):
        d = self.driver
        url = self.open_case()
        d.get(url + "/events/strategy-meeting")
        d.execute_script("document.querySelectorAll('input[name=csrf]').forEach(function (e) { e.remove(); })")
        d.find_element(By.ID, "invited.social-care").click()
        Select(d.find_element(By.ID, "outcome")).select_by_value("no-further-action")
        self.submit(d.find_element(By.CSS_SELECTOR, "form button[type=submit].button"))
        self.assertIn("This form has expired", self.text())
        self.page("csrf-refused")
        # The sign-in form too: without its token the right password signs no one in.
        d.delete_all_cookies()
        d.get(BASE + "/sign-in")
        d.execute_script("document.querySelectorAll('input[name=csrf]').forEach(function (e) { e.remove(); })")
        d.find_element(By.ID, "username").send_keys("mash.screener")
        d.find_element(By.ID, "password").send_keys(ACCOUNTS["mash.screener"])
        self.submit(d.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button"))
        self.assertIn("This form has expired", self.text())
        self.assertIsNone(d.get_cookie("hsb_session"))
        # A body that is not a form is refused with the same security headers as every page.
        try:
            urllib.request.urlopen(urllib.request.Request(BASE + "/sign-in", data=b"csrf=%zz", method="POST"), timeout=10)
            self.fail("a malformed form was accepted")
        except urllib.error.HTTPError as refused:
            self.assertEqual(refused.code, 400)
            self.assertIn("default-src 'none'", refused.headers.get("Content-Security-Policy", ""))
            self.assertEqual(refused.headers.get("Cache-Control"), "no-store")
        # Nothing was recorded: the case holds one strategy meeting at most (from test 4).
        d.get(url)
        self.assertNotIn("no further action", self.text().lower().split("chronology")[-1])

    def test_8_ops_page_for_ops_only(self):
        d = self.driver
        self.sign_in("ops.engineer")
        self.assertTrue(d.current_url.endswith("/ops"), d.current_url)
        text = self.text()
        for service in ["intake", "youth-justice", "camhs", "mappa", "orchestrator"]:
            self.assertIn(service, text)
        self.assertEqual(text.upper().count("NOT SERVING"), 0, text)
        self.assertEqual(text.upper().count("SERVING"), 5 * 2, text)
        # The orchestrator's gauges from its ops port: counts across every case, never a case.
        self.assertRegex(text, r"Overdue deadlines\s+\d+")
        self.assertRegex(text, r"Steps owed to agencies\s+\d+")
        self.assertNotIn("case-", text)
        self.page("ops")
        d.get(BASE + "/tray")
        self.assertIn("Not for operations", self.text())
        d.delete_all_cookies()
        self.sign_in("yj.officer")
        d.get(BASE + "/ops")
        self.assertIn("For operations only", self.text())

    def test_9_sign_out_ends_the_session(self):
        d = self.driver
        self.sign_in("social.worker")
        self.submit(d.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button"))
        self.assertTrue(d.current_url.endswith("/sign-in"))
        d.get(BASE + "/tray")
        self.assertTrue(d.current_url.endswith("/sign-in"), "after signing out the tray needs signing in again")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    with open(os.path.join(SHOTS, "axe.json"), "w") as out:
        json.dump(AXE_REPORT, out, indent=1)
    raise SystemExit(0 if result.wasSuccessful() else 1)
