#!/usr/bin/python3
"""Interop, zero-change mode: Debian's python3-twilio reaches a real streams-engine with nothing
changed but the environment `streams-engine --show-proxy-env` prints. The client code
(zero_change_client.py) names no base URL; it asks for https://sync.twilio.com, and the engine
answers inside the proxy tunnel.

python3-twilio 8 and later (Debian 13's 9.4) read REQUESTS_CA_BUNDLE from that environment.
Before 8 (Debian 12's 7.7) it never reads a CA variable and trusts the system store only, so
--show-proxy-env tells its users to trust the CA system-wide. This test does that without
touching the machine: in a private mount namespace (unshare, as root) it puts the system bundle
with the engine's CA appended where the system bundle is, as update-ca-certificates would.

Run: /usr/bin/python3 tests/interop/test_zero_change.py <path-to-streams-engine>
Needs: apt-get install python3-twilio; root (or python3-twilio 8+) for the system-store case
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from engine_process import Engine, make_credentials, require_python3_twilio, run_tests

twilio = require_python3_twilio()

ENGINE_BINARY = None  # set from argv in main
HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def proxy_environment(engine, credentials):
    """The variables an `eval "$(streams-engine --show-proxy-env ...)"` sets, as bash sets them."""
    # No --listen: the running engine says where it listens.
    script = 'eval "$("$0" --show-proxy-env --data-dir "$1")" && env -0'
    output = subprocess.run(
        ["bash", "-c", script, ENGINE_BINARY, engine.data_dir],
        check=True, capture_output=True,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
             "TWILIO_ACCOUNT_SID": credentials["account_sid"],
             "TWILIO_AUTH_TOKEN": credentials["auth_token"],
             "TWILIO_API_KEY": credentials["api_key"],
             "TWILIO_API_SECRET": credentials["api_secret"]}).stdout
    env = {}
    for entry in output.decode().split("\0"):
        name, equals, value = entry.partition("=")
        if equals:
            env[name] = value
    return env


def reads_ca_variables():
    return int(twilio.__version__.split(".")[0]) >= 8


class ZeroChange(unittest.TestCase):
    def setUp(self):
        self.credentials = make_credentials()
        self.engine = Engine(ENGINE_BINARY, self.credentials)
        self.addCleanup(self.engine.stop)

    def run_client(self, env):
        command = [sys.executable, os.path.join(HERE, "zero_change_client.py"), "zero-change-python"]
        if not reads_ca_variables():
            if os.geteuid() != 0 or not shutil.which("unshare"):
                self.fail("python3-twilio %s trusts the system store only; this test trusts the "
                          "engine's CA there in a private mount namespace, which needs root and "
                          "unshare (util-linux)" % twilio.__version__)
            bundle = tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False)
            self.addCleanup(os.unlink, bundle.name)
            with open(SYSTEM_BUNDLE, "rb") as system, open(env["REQUESTS_CA_BUNDLE"], "rb") as ca:
                bundle.write(system.read() + b"\n" + ca.read())
            bundle.close()
            command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                       'mount --bind "$0" "$1" && shift && exec "$@"', bundle.name, SYSTEM_BUNDLE, *command]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    def test_stream_lifecycle_against_sync_twilio_com(self):
        env = proxy_environment(self.engine, self.credentials)
        self.assertEqual(env["HTTPS_PROXY"], "http://127.0.0.1:%d" % self.engine.port)
        self.assertTrue(env["REQUESTS_CA_BUNDLE"].startswith(self.engine.data_dir))
        run = self.run_client(env)
        self.assertEqual(run.returncode, 0, "client failed:\n%s" % run.stderr)
        report = json.loads(run.stdout)
        self.assertRegex(report["sid"], r"^TO[0-9a-f]{32}$")
        self.assertRegex(report["url"], r"^https://sync\.twilio\.com/v1/Services/IS[0-9a-f]{32}/Streams/TO")
        self.assertRegex(report["message"], r"^TZ[0-9a-f]{32}$")
        self.assertEqual(report["data"], {"via": "zero-change"})
        self.assertIn("zero-change-python", report["listed"])
        self.assertEqual(report["fetched_name"], "zero-change-python")
        self.assertIsNotNone(report["expires"])
        self.assertEqual(report["refused"], {"status": 404, "code": 20404})
        self.assertTrue(report["removed"])


def start(binary):
    global ENGINE_BINARY
    ENGINE_BINARY = binary
    return "python3-twilio %s against %s (%s)" % (
        twilio.__version__, binary,
        "CA from REQUESTS_CA_BUNDLE" if reads_ca_variables() else "CA in the system store")


if __name__ == "__main__":
    run_tests(start)
