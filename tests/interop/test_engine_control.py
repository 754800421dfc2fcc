#!/usr/bin/python3
"""Interop: snapshots of a real streams-engine (`GET`/`PUT /_engine/state`, `--state FILE`,
`--export-state-on-exit FILE`, `--in-memory`) as Debian's python3-twilio sees them: a snapshot
exported from one engine and loaded into another gives identical fetches of every service and
stream, every field, and lists in the same order.

Run: /usr/bin/python3 tests/interop/test_engine_control.py <path-to-streams-engine>
Needs: apt-get install python3-twilio
"""

import json
import os
import secrets
import subprocess
import tempfile
import unittest

from engine_process import ControlPlane, Engine, engine_environment, make_credentials, \
    reach_the_engine_directly, require_python3_twilio, run_tests

twilio = require_python3_twilio()
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twilio.rest import Client  # noqa: E402

ENGINE_BINARY = None  # set from argv in main

reach_the_engine_directly()

CREDENTIALS = make_credentials()

SERVICE_FIELDS = {
    "friendly_name": "Interop ü service & co",
    "webhook_url": "https://example.com/sync-hook?x=1",
    "reachability_webhooks_enabled": True,
    "acl_enabled": True,
    "reachability_debouncing_enabled": True,
    "reachability_debouncing_window": 12000,
    "webhooks_from_rest_enabled": True,
}


def client_for(engine):
    client = Client(CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])
    client.sync.base_url = engine.base
    return client


def normalised(instance, base):
    """Every field python-twilio parsed, with the engine's own base URL made neutral.
    python-twilio 7 (Debian 12) keeps them in `_properties`; 9 (Debian 13) as attributes."""
    fields = getattr(instance, "_properties", None)
    if fields is None:
        fields = {name: value for name, value in vars(instance).items() if not name.startswith("_")}
    if not fields.get("sid"):
        raise AssertionError("no fields read from %r" % instance)
    return json.loads(json.dumps(fields, default=str, sort_keys=True).replace(base, "http://ENGINE"))


def comparable(snapshot):
    """A snapshot without exported_at, which differs between two exports of the same state."""
    snapshot = dict(snapshot)
    snapshot.pop("exported_at")
    return snapshot


def stream_count(snapshot):
    return sum(len(service.get("streams", [])) for service in snapshot["services"])


def run_engine(*args, env=None, timeout=30):
    """Runs streams-engine to its end (for options that make it exit); returns (code, output)."""
    result = subprocess.run([ENGINE_BINARY, "--listen", "127.0.0.1:0", *args], stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=timeout, env=engine_environment(CREDENTIALS, env))
    return result.returncode, result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")


class EngineTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.engines = []

    def tearDown(self):
        for engine in self.engines:
            was_alive = engine.alive()
            code = engine.stop()
            self.assertTrue(was_alive, "streams-engine died during the test; stderr:\n" + engine.stderr())
            self.assertEqual(code, 0, "streams-engine did not exit cleanly on SIGTERM; stderr:\n" + engine.stderr())

    def start(self, *args, **kwargs):
        engine = Engine(ENGINE_BINARY, CREDENTIALS, args, **kwargs)
        self.engines.append(engine)
        return engine

    def assertSameView(self, a, b):
        """python-twilio's fetch of every service and stream on `a` and `b` gives the same fields,
        and every list the same items in the same order. Returns (services, streams) compared."""
        client_a, client_b = client_for(a), client_for(b)
        services_a = client_a.sync.v1.services.list(page_size=2)
        services_b = client_b.sync.v1.services.list(page_size=2)
        self.assertEqual([s.sid for s in services_b], [s.sid for s in services_a], "service list order")
        self.assertEqual([normalised(s, b.base) for s in services_b], [normalised(s, a.base) for s in services_a],
                         "service lists")
        streams = 0
        for service in services_a:
            self.assertEqual(normalised(client_b.sync.v1.services(service.sid).fetch(), b.base),
                             normalised(client_a.sync.v1.services(service.sid).fetch(), a.base),
                             "service %s" % service.sid)
            listed_a = client_a.sync.v1.services(service.sid).sync_streams.list(page_size=2)
            listed_b = client_b.sync.v1.services(service.sid).sync_streams.list(page_size=2)
            self.assertEqual([s.sid for s in listed_b], [s.sid for s in listed_a], "stream list order in %s" % service.sid)
            self.assertEqual([normalised(s, b.base) for s in listed_b], [normalised(s, a.base) for s in listed_a],
                             "stream lists in %s" % service.sid)
            for stream in listed_a:
                streams_b = client_b.sync.v1.services(service.sid).sync_streams
                self.assertEqual(normalised(streams_b(stream.sid).fetch(), b.base),
                                 normalised(client_a.sync.v1.services(service.sid).sync_streams(stream.sid).fetch(), a.base),
                                 "stream %s" % stream.sid)
                if stream.unique_name is not None:
                    self.assertEqual(streams_b(stream.unique_name).fetch().sid, stream.sid,
                                     "stream %r by unique name" % stream.unique_name)
                streams += 1
        self.assertEqual(client_b.sync.v1.services("default").fetch().sid,
                         client_a.sync.v1.services("default").fetch().sid, "the service called default")
        return len(services_a), streams


class SnapshotTest(EngineTestCase):
    """One seeded engine (`source`) whose snapshot the tests load elsewhere."""

    @classmethod
    def setUpClass(cls):
        cls.source = Engine(ENGINE_BINARY, CREDENTIALS)
        client = client_for(cls.source)
        client.sync.v1.services("default").update(friendly_name="Renamed default", acl_enabled=True)
        custom = client.sync.v1.services.create(**SERVICE_FIELDS)
        plain = client.sync.v1.services.create(friendly_name="plain")
        client.sync.v1.services.create(friendly_name="empty")
        for service_sid, count in (("default", 5), (custom.sid, 4), (plain.sid, 3)):
            streams = client.sync.v1.services(service_sid).sync_streams
            for i in range(count):
                if i % 3 == 2:
                    streams.create()
                elif i % 2:
                    streams.create(unique_name="s-%d-ü x & y" % i, ttl=600 + i)
                else:
                    streams.create(unique_name="s-%d" % i)
        doomed = client.sync.v1.services(custom.sid).sync_streams.create(unique_name="doomed")
        client.sync.v1.services(custom.sid).sync_streams(doomed.sid).delete()
        cls.doomed_sid = doomed.sid
        cls.snapshot = ControlPlane(cls.source.base, CREDENTIALS).export_state()

    @classmethod
    def tearDownClass(cls):
        was_alive = cls.source.alive()
        code = cls.source.stop()
        if not was_alive or code != 0:
            raise AssertionError("the source engine died or did not exit cleanly (%s); stderr:\n%s"
                                 % (code, cls.source.stderr()))

    def test_snapshot_shape(self):
        snapshot = self.snapshot
        self.assertEqual(snapshot["format"], 1)
        self.assertRegex(snapshot["engine_version"], r"^\d+\.\d+\.\d+")
        self.assertRegex(snapshot["exported_at"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
        self.assertEqual([s["friendly_name"] for s in snapshot["services"]],
                         ["Renamed default", SERVICE_FIELDS["friendly_name"], "plain", "empty"],
                         "services in creation order")
        custom = snapshot["services"][1]
        for key, value in SERVICE_FIELDS.items():
            self.assertEqual(custom[key], value, "snapshot services[1].%s" % key)
        self.assertEqual(stream_count(snapshot), 12)
        self.assertNotIn(self.doomed_sid, [s["sid"] for s in custom["streams"]], "a deleted stream")
        first = snapshot["services"][0]["streams"]
        self.assertEqual([s["unique_name"] for s in first], ["s-0", "s-1-ü x & y", None, "s-3-ü x & y", "s-4"],
                         "streams in creation order")
        self.assertIsNone(first[0]["date_expires"])
        self.assertRegex(first[1]["date_expires"], r"Z$")
        self.assertEqual(first[0]["created_by"], "system")
        self.assertEqual(first[0]["account_sid"], CREDENTIALS["account_sid"])

    def test_put_state_gives_identical_fetches(self):
        target = self.start()
        control = ControlPlane(target.base, CREDENTIALS)
        old_default = client_for(target).sync.v1.services("default").fetch().sid
        self.assertEqual(control.import_state(self.snapshot),
                         {"services": len(self.snapshot["services"]), "streams": stream_count(self.snapshot)})
        services, streams = self.assertSameView(self.source, target)
        self.assertEqual((services, streams), (4, 12))
        self.assertEqual(comparable(control.export_state()), comparable(self.snapshot),
                         "the importing engine's own export")
        with self.assertRaises(TwilioRestException) as caught:
            client_for(target).sync.v1.services(old_default).fetch()
        self.assertEqual((caught.exception.status, caught.exception.code), (404, 20404),
                         "the importing engine's old default service")
        # Live, not a copy: publish to an imported stream; an imported unique name is taken.
        streams_api = client_for(target).sync.v1.services("default").sync_streams
        self.assertRegex(streams_api("s-0").stream_messages.create(data={"after": "import"}).sid, r"^TZ[0-9a-f]{32}$")
        with self.assertRaises(TwilioRestException) as caught:
            streams_api.create(unique_name="s-0")
        self.assertEqual((caught.exception.status, caught.exception.code), (409, 54301))

    def test_state_file_at_start(self):
        with tempfile.TemporaryDirectory(prefix="streams-interop-state-") as scratch:
            path = os.path.join(scratch, "state.json")
            with open(path, "w", encoding="utf-8") as file:
                json.dump(self.snapshot, file, ensure_ascii=False)
            loaded = self.start("--state", path)
            self.assertEqual(self.assertSameView(self.source, loaded), (4, 12))

            # A data directory that is not new: exit 1, saying so.
            used = os.path.join(scratch, "used")
            Engine(ENGINE_BINARY, CREDENTIALS, (), data_dir=used).stop()
            code, output = run_engine("--data-dir", used, "--state", path)
            self.assertEqual(code, 1, "--state on a data directory in use: exit code; output:\n" + output)
            self.assertIn("empty", output.lower(), "--state on a used data directory: the message")

            # An invalid snapshot: exit 1 naming the field.
            bad = json.loads(json.dumps(self.snapshot))
            bad["services"][0]["streams"][1]["sid"] = "TO123"
            bad_path = os.path.join(scratch, "bad.json")
            with open(bad_path, "w", encoding="utf-8") as file:
                json.dump(bad, file)
            code, output = run_engine("--data-dir", os.path.join(scratch, "new"), "--state", bad_path)
            self.assertEqual(code, 1, "an invalid --state file: exit code; output:\n" + output)
            self.assertIn("services[0].streams[1].sid", output, "an invalid --state file: the message")

    def test_export_state_on_exit(self):
        with tempfile.TemporaryDirectory(prefix="streams-interop-export-") as scratch:
            path = os.path.join(scratch, "exported.json")
            engine = Engine(ENGINE_BINARY, CREDENTIALS, ("--export-state-on-exit", path))
            control = ControlPlane(engine.base, CREDENTIALS)
            control.import_state(self.snapshot)
            client_for(engine).sync.v1.services("default").sync_streams.create(unique_name="made-after-import", ttl=60)
            expected = control.export_state()
            code = engine.stop()
            self.assertEqual(code, 0, "SIGTERM with --export-state-on-exit; stderr:\n" + engine.stderr())
            self.assertEqual(os.listdir(scratch), ["exported.json"], "what the export left in its directory")
            with open(path, encoding="utf-8") as file:
                exported = json.load(file)
            self.assertEqual(comparable(exported), comparable(expected), "the snapshot written at exit")

    def test_in_memory(self):
        with tempfile.TemporaryDirectory(prefix="streams-interop-home-") as home:
            env = {"HOME": home, "XDG_DATA_HOME": os.path.join(home, "data"),
                   "XDG_CONFIG_HOME": os.path.join(home, "config")}
            engine = self.start("--in-memory", data_dir=False, env=env)
            control = ControlPlane(engine.base, CREDENTIALS)
            control.import_state(self.snapshot)
            self.assertEqual(self.assertSameView(self.source, engine), (4, 12))
            self.engines.remove(engine)
            self.assertEqual(engine.stop(), 0, "--in-memory engine on SIGTERM; stderr:\n" + engine.stderr())
            written = [os.path.join(d, f) for d, _, files in os.walk(home) for f in files]
            self.assertEqual(written, [], "files an --in-memory engine wrote under HOME")
            code, output = run_engine("--in-memory", "--data-dir", os.path.join(home, "dir"), env=env)
            self.assertNotEqual(code, 0, "--in-memory with --data-dir was accepted; output:\n" + output)


class KillAfterImportTest(EngineTestCase):
    def test_kill9_right_after_the_acknowledgement_loses_nothing(self):
        with tempfile.TemporaryDirectory(prefix="streams-interop-kill9-") as data_dir:
            def sid(prefix):
                return prefix + secrets.token_hex(16)

            snapshot = {"format": 1, "services": [
                {"sid": sid("IS"), "unique_name": "default", "friendly_name": "python",
                 "streams": [{"sid": sid("TO"), "unique_name": "py-0-%d" % j} for j in range(30)]},
                {"sid": sid("IS"), "friendly_name": "second",
                 "streams": [{"sid": sid("TO")} for _ in range(30)]},
            ]}
            engine = Engine(ENGINE_BINARY, CREDENTIALS, (), data_dir=data_dir)
            control = ControlPlane(engine.base, CREDENTIALS)
            answer = control.import_state(snapshot)
            engine.kill9()
            self.assertEqual(answer, {"services": 2, "streams": 60})
            restarted = self.start(data_dir=data_dir)
            after = ControlPlane(restarted.base, CREDENTIALS).export_state()
            self.assertEqual([s["sid"] for s in after["services"]], [s["sid"] for s in snapshot["services"]])
            for got, given in zip(after["services"], snapshot["services"]):
                self.assertEqual([(s["sid"], s["unique_name"]) for s in got["streams"]],
                                 [(s["sid"], s.get("unique_name")) for s in given["streams"]])
            client = client_for(restarted)
            self.assertEqual(client.sync.v1.services("default").sync_streams("py-0-29").fetch().sid,
                             snapshot["services"][0]["streams"][29]["sid"])
            self.engines.remove(restarted)
            self.assertEqual(restarted.stop(), 0, "the restarted engine on SIGTERM; stderr:\n" + restarted.stderr())


def start(binary):
    global ENGINE_BINARY
    ENGINE_BINARY = binary
    return "python3-twilio %s against %s" % (twilio.__version__, binary)


if __name__ == "__main__":
    run_tests(start)
