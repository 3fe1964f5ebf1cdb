"""The admin in a real browser (headless Chromium): log in through the login form, deploy a BPMN
file through the upload form, open an instance waiting at a user task and see the diagram mark
that task as active. The page is kept as a screenshot in artifacts/admin-instance.png.

The app is served by pytest-django's `live_server` (a thread of this process, on the test
database), so the test writes through the services here and the browser sees the same rows. The
instance is brought to its user task the way the workers would do it, in-process
(`apps.instances.inprocess.run_in_process`: the engine step, then the job runner for the script
task and `echo`). Nothing is published to a broker: the outbox rows stay unsent.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.definitions.models import ProcessDefinition
from apps.instances import outbox, services
from apps.instances.inprocess import run_in_process

MODEL = Path(__file__).parent / "models" / "order_review.bpmn"
USER_TASK = "review"
PASSWORD = "browser-test-password-1"
# Waits, not time limits: how long a page may take on a loaded machine before we give up.
PAGE_WAIT = 60

# pytest-timeout counts fixtures too: the first browser test may install Chromium (conftest.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(1200)]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Committed outbox rows are not published: this test is the worker (and RabbitMQ, if it runs,
    may have other people's workers on its default virtual host)."""
    monkeypatch.setattr(outbox, "_publish_soon", lambda message_id: None)


def wait(driver, condition):
    return WebDriverWait(driver, PAGE_WAIT).until(condition)


def test_log_in_deploy_and_see_the_active_user_task_on_the_instance_page(live_server, browser, artifacts):
    admin = User.objects.create_superuser("operator", "operator@example.com", PASSWORD)

    # Log in through the login form.
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.ID, "id_username").send_keys("operator")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait(browser, ec.presence_of_element_located((By.ID, "user-tools")))

    # Deploy through the upload form, reached from the definitions list.
    browser.get(f"{live_server.url}/admin/baton_definitions/processdefinition/")
    wait(browser, ec.element_to_be_clickable((By.ID, "baton-deploy-link"))).click()
    wait(browser, ec.presence_of_element_located((By.ID, "baton-deploy-form")))
    browser.find_element(By.ID, "baton-deploy-file").send_keys(str(MODEL))
    browser.find_element(By.ID, "baton-deploy-submit").click()
    wait(browser, ec.presence_of_element_located((By.ID, "baton-xml")))  # the new definition's page
    assert "Deployed order_review version 1." in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    definition = ProcessDefinition.objects.get(key="order_review")
    assert definition.version == 1 and definition.deployment.created_by == admin
    assert browser.current_url.endswith(f"/admin/baton_definitions/processdefinition/{definition.pk}/change/")

    # An instance, brought to its user task by the engine step and the job runner.
    instance = services.instance_start(definition=definition, business_key="A-1",
                                       variables={"order_id": "A-1", "qty": 2, "unit_price": 12.5})
    instance = run_in_process(instance)
    assert instance.active_elements == [USER_TASK]

    # Its page: the diagram marks the user task as active, and what ran before it as taken.
    browser.get(f"{live_server.url}/admin/baton_instances/processinstance/{instance.pk}/change/")
    page = wait(browser, ec.presence_of_element_located((By.ID, "baton-instance")))
    task = wait(browser, ec.visibility_of_element_located(
        (By.CSS_SELECTOR, f'svg.baton-diagram g[data-element="{USER_TASK}"]')))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", task)
    screenshot = artifacts / "admin-instance.png"
    assert browser.save_screenshot(str(screenshot)), "Chromium took the screenshot"

    assert page.get_attribute("data-state") == "running"
    assert task.get_attribute("data-state") == "active"
    assert "baton-active" in task.get_attribute("class").split()
    assert task.size["width"] > 0 and task.size["height"] > 0  # drawn, not only present in the markup
    states = {group.get_attribute("data-element"): group.get_attribute("data-state")
              for group in browser.find_elements(By.CSS_SELECTOR, "svg.baton-diagram g[data-element]")}
    assert {name: states[name] for name in ("price", "announce", "to_price", "to_announce", "to_review")} == \
        dict.fromkeys(("price", "announce", "to_price", "to_announce", "to_review"), "taken")
    assert states["done"] is None and states["to_done"] is None
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
