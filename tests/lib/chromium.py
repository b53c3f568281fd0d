# -*- coding: utf-8 -*-
"""Debian's Chromium, headless, driven through chromium-driver by Selenium, for the console's browser tests
(the test-driver tier and the box): it trusts only the console's own TLS key (the SHA-256 of its public key),
its viewport is 1280x800, and screenshots are checked not to be blank."""

import base64
import hashlib
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec_wait
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
VIEWPORT = (1280, 800)


def missing():
    """What is not installed, as a message naming the Debian package (None when both are there)."""
    for path, package in ((CHROMIUM, "chromium"), (DRIVER, "chromium-driver")):
        if not os.path.exists(path):
            return "%s is missing: install Debian's %s (scripts/host-packages.txt, make deps)" % (path, package)
    return None


def spki_of_pem(pem):
    """base64 SHA-256 of a PEM certificate's public key (what --ignore-certificate-errors-spki-list takes)."""
    cert = x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def spki_of_server(host, port):
    return spki_of_pem(ssl.get_server_certificate((host, port)))


def browser(spki, profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--no-first-run",
                "--window-size=%d,%d" % VIEWPORT, "--ignore-certificate-errors-spki-list=%s" % spki,
                "--user-data-dir=%s" % profile_dir):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    # the page's own viewport (the window's size includes what headless Chromium keeps for its frame)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False})
    return driver


def log_in(driver, base, name, password):
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 30).until(ec_wait.presence_of_element_located((By.ID, "who")))


def log_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form.who button").click()
    WebDriverWait(driver, 30).until(ec_wait.presence_of_element_located((By.ID, "login")))


def shot(driver, directory, name):
    """A screenshot kept as ``directory/name.png``; True when it has the viewport's size and is not blank."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name + ".png")
    if not driver.save_screenshot(path):
        return False
    with Image.open(path) as img:
        return img.size == VIEWPORT and len(img.getcolors(1 << 16) or [0] * 3) > 2
