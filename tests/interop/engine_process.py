"""Starts and stops a real streams-engine process for the Python interop tests (the counterpart of
tests/support/engineprocess.js), and talks to its control plane (`/_engine/...`) over plain HTTP.

The engine prints credentials on stdout, so stdout is parsed for the port and then drained
without being shown. stderr is kept and shown only when something goes wrong."""

import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def require_python3_twilio():
    """Debian's python3-twilio, imported; missing, the test fails (exit 1) saying what to install:
    an interop test never skips."""
    try:
        import twilio
    except ImportError as error:
        print("python3-twilio is not installed: run apt-get install python3-twilio "
              "(and run this test with /usr/bin/python3)", file=sys.stderr)
        print("(import twilio failed: %s)" % error, file=sys.stderr)
        sys.exit(1)
    return twilio


def reach_the_engine_directly():
    """The base-URL tests' clients go straight to the engine: no edge/region host rewriting, no
    proxy."""
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def make_credentials():
    """Fresh credentials in the shapes Twilio uses: AC/SK + 32 lowercase hex digits."""
    return {
        "account_sid": "AC" + secrets.token_hex(16),
        "auth_token": secrets.token_hex(16),
        "api_key": "SK" + secrets.token_hex(16),
        "api_secret": secrets.token_hex(16),
    }


def engine_environment(credentials, extra=None):
    env = dict(os.environ)
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):
        env.pop(name, None)
    env.update({
        "TWILIO_ACCOUNT_SID": credentials["account_sid"],
        "TWILIO_AUTH_TOKEN": credentials["auth_token"],
        "TWILIO_API_KEY": credentials["api_key"],
        "TWILIO_API_SECRET": credentials["api_secret"],
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    env.update(extra or {})
    return env


class Engine:
    """A real streams-engine process on a free loopback port.

    data_dir: None for a fresh directory (removed by stop()), a path to run on an existing one
    (left in place), or False to pass no --data-dir at all (for --in-memory). env: variables to
    set on top of the credentials."""

    def __init__(self, binary, credentials, extra_args=(), data_dir=None, env=None, timeout=20.0):
        if not binary:
            raise RuntimeError("no streams-engine binary given (first command-line argument)")
        if not os.path.exists(binary):
            raise RuntimeError("streams-engine binary not found: %s" % binary)
        self._owns_data_dir = data_dir is None
        self.data_dir = tempfile.mkdtemp(prefix="streams-interop-py-") if data_dir is None else data_dir
        data_dir_args = [] if self.data_dir is False else ["--data-dir", self.data_dir]
        self._stderr = []
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", *data_dir_args, *extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=engine_environment(credentials, env))
        found = threading.Event()
        self.port = None

        def read_stdout():
            for raw in self.process.stdout:
                if self.port is None:
                    match = LISTENING.search(raw.decode("utf-8", "replace"))
                    if match:
                        self.port = int(match.group(1))
                        found.set()
            found.set()  # EOF

        def read_stderr():
            for raw in self.process.stderr:
                self._stderr.append(raw.decode("utf-8", "replace"))

        self._readers = [threading.Thread(target=read_stdout, daemon=True),
                         threading.Thread(target=read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()
        if not found.wait(timeout) or self.port is None:
            self.process.kill()
            self._reap()
            raise RuntimeError("streams-engine did not report its port (exit %s); stderr:\n%s"
                               % (self.process.returncode, self.stderr()))
        self.base = "http://127.0.0.1:%d" % self.port

    def stderr(self):
        return "".join(self._stderr)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM, wait (then SIGKILL), remove a fresh data directory; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()
        return self.process.returncode

    def kill9(self):
        """SIGKILL (a crash); the data directory stays for a restart."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()

    def _reap(self):
        self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class ControlPlaneError(AssertionError):
    pass


class ControlPlane:
    """The engine's control plane over urllib: JSON in and out, HTTP Basic with the engine's
    account SID and auth token (or auth=None for none)."""

    def __init__(self, base, credentials):
        self.base = base
        token = "%s:%s" % (credentials["account_sid"], credentials["auth_token"])
        self.authorization = "Basic " + base64.b64encode(token.encode()).decode()

    def request(self, method, path, body=None, auth=True):
        """Returns (status, headers, parsed JSON or None, text)."""
        data = None
        headers = {}
        if auth:
            headers["Authorization"] = self.authorization
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as response:
                status, answer_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, error.headers, error.read()
        text = raw.decode("utf-8")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return status, answer_headers, parsed, text

    def expect(self, status, method, path, body=None):
        got, _, parsed, text = self.request(method, path, body)
        if got != status:
            raise ControlPlaneError("%s %s: HTTP %s, expected %s: %s" % (method, path, got, status, text[:500]))
        return parsed

    def health(self):
        got, _, parsed, text = self.request("GET", "/_engine/health", auth=False)
        if got != 200:
            raise ControlPlaneError("GET /_engine/health: HTTP %s: %s" % (got, text[:500]))
        return parsed

    def export_state(self):
        return self.expect(200, "GET", "/_engine/state")

    def import_state(self, snapshot):
        return self.expect(200, "PUT", "/_engine/state", snapshot)

    def reset(self):
        return self.expect(200, "POST", "/_engine/reset")


def run_tests(start):
    """The interop tests' main: `script <path-to-streams-engine> [unittest args]`. `start(binary)`
    keeps the binary for the tests and returns the line saying what runs against what. Exits 2
    without a binary, 1 unless tests ran and all passed. SIGTERM (a ctest timeout) ends the run
    through sys.exit, so `finally` blocks still stop the engines they started."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    if len(sys.argv) < 2:
        print("usage: %s <path-to-streams-engine> [unittest args]" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    print(start(sys.argv[1]))
    program = unittest.main(module="__main__", argv=[sys.argv[0], "-v", *sys.argv[2:]], exit=False)
    result = program.result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
