#!/usr/bin/python3
"""Interop: Debian's python3-twilio drives a real streams-engine process through a full Sync
Streams lifecycle (services, streams, messages, every contract error code).

Run: /usr/bin/python3 tests/interop/test_sync_lifecycle.py <path-to-streams-engine>
Needs: apt-get install python3-twilio
"""

import datetime
import json
import os
import re
import secrets
import time
import unittest

# Beside this file.
from engine_process import Engine as EngineProcess, make_credentials, reach_the_engine_directly, \
    require_python3_twilio, run_tests

twilio = require_python3_twilio()
from twilio.base.exceptions import TwilioException, TwilioRestException  # noqa: E402
from twilio.rest import Client  # noqa: E402

ENGINE_BINARY = None  # set from argv in main

reach_the_engine_directly()

SERVICE_SID = re.compile(r"^IS[0-9a-f]{32}$")
STREAM_SID = re.compile(r"^TO[0-9a-f]{32}$")
MESSAGE_SID = re.compile(r"^TZ[0-9a-f]{32}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def random_hex(nbytes):
    return secrets.token_hex(nbytes)


def missing_stream_sid():
    return "TO" + random_hex(16)


def missing_service_sid():
    return "IS" + random_hex(16)


CREDENTIALS = make_credentials()


class Engine(EngineProcess):
    """A real streams-engine process with this run's credentials (engine_process.py)."""

    def __init__(self, binary, extra_args=(), timeout=20.0):
        super().__init__(binary, CREDENTIALS, extra_args, timeout=timeout)


def client_for(base, username, password, account_sid=None):
    client = Client(username, password, account_sid)
    client.sync.base_url = base
    return client


ENGINE = None
CLIENT = None


def setUpModule():
    global ENGINE, CLIENT
    ENGINE = Engine(ENGINE_BINARY)
    CLIENT = client_for(ENGINE.base, CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])


def tearDownModule():
    global ENGINE
    if ENGINE is None:
        return
    was_alive = ENGINE.alive()
    code = ENGINE.stop()
    stderr = ENGINE.stderr()
    ENGINE = None
    if not was_alive:
        raise AssertionError("streams-engine died during the test (exit %s); stderr:\n%s" % (code, stderr))
    if code != 0:
        raise AssertionError("streams-engine did not exit cleanly on SIGTERM (exit %s); stderr:\n%s"
                             % (code, stderr))


class SyncTestCase(unittest.TestCase):
    maxDiff = 2000

    def assertRestError(self, call, status, code, what):
        """`call()` must raise TwilioRestException with this HTTP status and Twilio code."""
        try:
            value = call()
        except TwilioRestException as error:
            self.assertEqual(error.status, status, "%s: HTTP status (%s)" % (what, error.msg))
            self.assertEqual(error.code, code, "%s: Twilio error code (%s)" % (what, error.msg))
            self.assertTrue(error.msg, "%s: empty message" % what)
            return error
        except Exception as error:  # noqa: BLE001 - report what the client raised instead
            self.fail("%s: expected TwilioRestException %s/%s, got %r" % (what, status, code, error))
        self.fail("%s: expected HTTP %s / code %s, but it succeeded with %r" % (what, status, code, value))

    def assertListError(self, call, status, code, what):
        """python-twilio raises a generic TwilioException('Unable to fetch page', response) for
        list errors; check the response it carries."""
        try:
            value = call()
        except TwilioRestException as error:
            self.assertEqual((error.status, error.code), (status, code), what)
            return
        except TwilioException as error:
            self.assertEqual(error.args[0], "Unable to fetch page", what)
            response = error.args[1]
            self.assertEqual(response.status_code, status, "%s: HTTP status" % what)
            body = json.loads(response.text)
            self.assertEqual(body.get("code"), code, "%s: Twilio error code in %s" % (what, body))
            self.assertEqual(body.get("status"), status, "%s: status in %s" % (what, body))
            self.assertEqual(body.get("more_info"), "https://www.twilio.com/docs/errors/%d" % code, what)
            return
        self.fail("%s: expected a list error %s/%s, but it succeeded with %r" % (what, status, code, value))

    def raw_get(self, url, client=None):
        response = (client or CLIENT).request("GET", url)
        self.assertEqual(response.status_code, 200, "raw GET %s: %s" % (url, response.text))
        return json.loads(response.text)

    def assertDate(self, value, what):
        # python-twilio parses only %Y-%m-%dT%H:%M:%SZ and returns anything else as a raw string.
        self.assertIsInstance(value, datetime.datetime, "%s is not a parsed date: %r" % (what, value))

    def assertStreamShape(self, stream, service_sid, what):
        self.assertRegex(stream.sid, STREAM_SID, "%s: sid" % what)
        self.assertEqual(stream.account_sid, CREDENTIALS["account_sid"], "%s: account_sid" % what)
        self.assertEqual(stream.service_sid, service_sid, "%s: service_sid" % what)
        self.assertEqual(stream.url, "%s/v1/Services/%s/Streams/%s" % (ENGINE.base, service_sid, stream.sid),
                         "%s: url" % what)
        self.assertEqual(stream.links, {"messages": stream.url + "/Messages"}, "%s: links" % what)
        self.assertEqual(stream.created_by, "system", "%s: created_by" % what)
        self.assertDate(stream.date_created, "%s: date_created" % what)
        self.assertDate(stream.date_updated, "%s: date_updated" % what)

    def assertServiceShape(self, service, what):
        self.assertRegex(service.sid, SERVICE_SID, "%s: sid" % what)
        self.assertEqual(service.account_sid, CREDENTIALS["account_sid"], "%s: account_sid" % what)
        url = "%s/v1/Services/%s" % (ENGINE.base, service.sid)
        self.assertEqual(service.url, url, "%s: url" % what)
        self.assertEqual(service.links, {"documents": url + "/Documents", "lists": url + "/Lists",
                                         "maps": url + "/Maps", "streams": url + "/Streams"},
                         "%s: links" % what)
        self.assertDate(service.date_created, "%s: date_created" % what)
        self.assertDate(service.date_updated, "%s: date_updated" % what)


SERVICE_FIELDS = {
    "friendly_name": "Interop ü service & co",
    "webhook_url": "https://example.com/sync-hook?x=1",
    "reachability_webhooks_enabled": True,
    "acl_enabled": True,
    "reachability_debouncing_enabled": True,
    "reachability_debouncing_window": 12000,
    "webhooks_from_rest_enabled": True,
}


class ServicesTest(SyncTestCase):
    def test_default_service_is_addressable_as_default(self):
        by_alias = CLIENT.sync.v1.services("default").fetch()
        self.assertServiceShape(by_alias, "default service")
        self.assertEqual(by_alias.unique_name, "default")
        by_sid = CLIENT.sync.v1.services(by_alias.sid).fetch()
        self.assertEqual(by_sid.sid, by_alias.sid)
        self.assertIn(by_alias.sid, [s.sid for s in CLIENT.sync.v1.services.list()])
        stream = CLIENT.sync.v1.services("default").sync_streams.create()
        self.assertEqual(stream.service_sid, by_alias.sid)
        self.assertEqual(CLIENT.sync.v1.services(by_alias.sid).sync_streams(stream.sid).fetch().sid, stream.sid)
        self.assertTrue(CLIENT.sync.v1.services("default").sync_streams(stream.sid).delete())

    def test_service_lifecycle(self):
        created = CLIENT.sync.v1.services.create(**SERVICE_FIELDS)
        self.assertServiceShape(created, "created service")
        self.assertIsNone(created.unique_name, "unique_name is read-only and should be null")
        for key, value in SERVICE_FIELDS.items():
            self.assertEqual(getattr(created, key), value, "created.%s" % key)
        self.assertEqual(created.date_created, created.date_updated)

        raw = self.raw_get(created.url)
        self.assertRegex(raw["date_created"], DATE)
        self.assertRegex(raw["date_updated"], DATE)
        self.assertIs(raw["acl_enabled"], True)
        self.assertEqual(raw["reachability_debouncing_window"], 12000)

        fetched = CLIENT.sync.v1.services(created.sid).fetch()
        for key, value in SERVICE_FIELDS.items():
            self.assertEqual(getattr(fetched, key), value, "fetched.%s" % key)

        plain = CLIENT.sync.v1.services.create(friendly_name="plain")
        self.assertServiceShape(plain, "plain service")
        self.assertEqual(plain.friendly_name, "plain")
        self.assertIsNone(plain.webhook_url)
        self.assertIs(plain.reachability_webhooks_enabled, False)
        self.assertIs(plain.acl_enabled, False)
        self.assertIs(plain.reachability_debouncing_enabled, False)
        self.assertEqual(plain.reachability_debouncing_window, 5000)
        self.assertIs(plain.webhooks_from_rest_enabled, False)

        # List, following next_page_url with one service per page.
        listed = CLIENT.sync.v1.services.list(page_size=1)
        sids = [s.sid for s in listed]
        self.assertEqual(len(set(sids)), len(sids), "duplicate services in list: %s" % sids)
        self.assertIn(created.sid, sids)
        self.assertIn(plain.sid, sids)
        listed_created = next(s for s in listed if s.sid == created.sid)
        for key, value in SERVICE_FIELDS.items():
            self.assertEqual(getattr(listed_created, key), value, "listed.%s" % key)

        # Update (python sends booleans as True/False): changed fields change, the others stay.
        updated = CLIENT.sync.v1.services(created.sid).update(
            friendly_name="renamed", acl_enabled=False, reachability_debouncing_window=3000,
            webhook_url="http://127.0.0.1:9/other")
        self.assertEqual(updated.sid, created.sid)
        self.assertEqual(updated.friendly_name, "renamed")
        self.assertIs(updated.acl_enabled, False)
        self.assertEqual(updated.reachability_debouncing_window, 3000)
        self.assertEqual(updated.webhook_url, "http://127.0.0.1:9/other")
        self.assertIs(updated.reachability_webhooks_enabled, True)
        self.assertIs(updated.reachability_debouncing_enabled, True)
        self.assertIs(updated.webhooks_from_rest_enabled, True)
        self.assertGreaterEqual(updated.date_updated, created.date_updated)
        refetched = CLIENT.sync.v1.services(created.sid).fetch()
        self.assertEqual(refetched.friendly_name, "renamed")
        self.assertIs(refetched.acl_enabled, False)
        self.assertEqual(refetched.reachability_debouncing_window, 3000)

        # Delete: the service and its streams are gone.
        stream = CLIENT.sync.v1.services(created.sid).sync_streams.create(unique_name="inside")
        self.assertTrue(CLIENT.sync.v1.services(created.sid).delete())
        self.assertRestError(lambda: CLIENT.sync.v1.services(created.sid).fetch(), 404, 20404,
                             "fetch deleted service")
        self.assertRestError(lambda: CLIENT.sync.v1.services(created.sid).sync_streams(stream.sid).fetch(),
                             404, 20404, "fetch stream of deleted service")
        self.assertRestError(lambda: CLIENT.sync.v1.services(created.sid).sync_streams("inside").fetch(),
                             404, 20404, "fetch stream of deleted service by name")
        self.assertListError(lambda: CLIENT.sync.v1.services(created.sid).sync_streams.list(), 404, 20404,
                             "list streams of deleted service")
        self.assertRestError(lambda: CLIENT.sync.v1.services(created.sid).delete(), 404, 20404,
                             "delete deleted service")
        self.assertRestError(lambda: CLIENT.sync.v1.services(created.sid).update(friendly_name="x"), 404, 20404,
                             "update deleted service")
        self.assertNotIn(created.sid, [s.sid for s in CLIENT.sync.v1.services.list()])
        self.assertTrue(CLIENT.sync.v1.services(plain.sid).delete())

    def test_debouncing_window_out_of_range(self):
        for window in (999, 30001):
            with self.assertRaises(TwilioRestException, msg="window %d" % window) as caught:
                CLIENT.sync.v1.services.create(reachability_debouncing_window=window)
            self.assertEqual(caught.exception.status, 400, "window %d: HTTP status" % window)
            self.assertIsInstance(caught.exception.code, int)

    def test_missing_service(self):
        sid = missing_service_sid()
        services = CLIENT.sync.v1.services
        self.assertRestError(lambda: services(sid).fetch(), 404, 20404, "fetch missing service")
        self.assertRestError(lambda: services(sid).update(friendly_name="x"), 404, 20404, "update missing service")
        self.assertRestError(lambda: services(sid).delete(), 404, 20404, "delete missing service")
        self.assertRestError(lambda: services(sid).sync_streams.create(), 404, 20404,
                             "create stream in missing service")
        self.assertListError(lambda: services(sid).sync_streams.list(), 404, 20404,
                             "list streams of missing service")
        self.assertRestError(
            lambda: services(sid).sync_streams(missing_stream_sid()).stream_messages.create(data={"a": 1}),
            404, 20404, "publish in missing service")


class StreamsTest(SyncTestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = CLIENT.sync.v1.services.create(friendly_name="streams")

    def streams(self):
        return CLIENT.sync.v1.services(self.service.sid).sync_streams

    def test_create_with_unique_name_and_ttl(self):
        stream = self.streams().create(unique_name="orders", ttl=3600)
        self.assertStreamShape(stream, self.service.sid, "orders")
        self.assertEqual(stream.unique_name, "orders")
        self.assertDate(stream.date_expires, "date_expires")
        self.assertEqual(stream.date_expires - stream.date_created, datetime.timedelta(seconds=3600))
        self.assertEqual(stream.date_updated, stream.date_created)
        skew = abs((stream.date_created - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
        self.assertLess(skew, 60, "date_created is %s s away from now" % skew)
        raw = self.raw_get(stream.url)
        for key in ("date_created", "date_updated", "date_expires"):
            self.assertRegex(raw[key], DATE, "raw %s" % key)
        self.assertEqual(raw["created_by"], "system")

    def test_create_without_unique_name(self):
        stream = self.streams().create()
        self.assertStreamShape(stream, self.service.sid, "anonymous")
        self.assertIsNone(stream.unique_name)
        self.assertIsNone(stream.date_expires)
        raw = self.raw_get(stream.url)
        self.assertIsNone(raw["unique_name"])
        self.assertIsNone(raw["date_expires"])
        self.assertIsNone(self.streams().create(ttl=0).date_expires, "ttl 0 means no expiry")

    def test_fetch_by_sid_and_unique_name_with_spaces_and_non_ascii(self):
        created = self.streams().create(unique_name="a b ü", ttl=120)
        self.assertEqual(created.unique_name, "a b ü")
        by_name = self.streams()("a b ü").fetch()
        self.assertEqual(by_name.sid, created.sid)
        self.assertEqual(by_name.unique_name, "a b ü")
        self.assertEqual(by_name.url, "%s/v1/Services/%s/Streams/%s" % (ENGINE.base, self.service.sid, created.sid),
                         "url carries the SID")
        by_sid = self.streams()(created.sid).fetch()
        self.assertEqual(by_sid.sid, created.sid)
        self.assertEqual(by_sid.unique_name, "a b ü")
        self.assertEqual(by_sid.date_expires, created.date_expires)
        self.assertRestError(lambda: CLIENT.sync.v1.services("default").sync_streams("a b ü").fetch(),
                             404, 20404, "name from another service")
        self.assertEqual(self.streams()("a b ü").update(ttl=30).sid, created.sid)
        message = self.streams()("a b ü").stream_messages.create(data={"via": "name"})
        self.assertRegex(message.sid, MESSAGE_SID)
        self.assertTrue(self.streams()("a b ü").delete())
        self.assertRestError(lambda: self.streams()(created.sid).fetch(), 404, 20404, "fetch after delete by name")

    def test_list_with_paging(self):
        paging_service = CLIENT.sync.v1.services.create(friendly_name="paging")
        paged = CLIENT.sync.v1.services(paging_service.sid).sync_streams
        created = [paged.create(unique_name="page-%d" % i).sid for i in range(7)]

        everything = paged.list(page_size=3)
        sids = [s.sid for s in everything]
        self.assertEqual(len(sids), 7, "list returned %d streams" % len(sids))
        self.assertEqual(len(set(sids)), 7, "duplicates in list: %s" % sids)
        self.assertEqual(sorted(sids), sorted(created))
        for s in everything:
            self.assertStreamShape(s, paging_service.sid, "listed %s" % s.unique_name)

        limited = paged.list(limit=5)
        self.assertEqual(len(limited), 5, "list(limit=5)")
        self.assertEqual(len({s.sid for s in limited}), 5)
        streamed = [s.sid for s in paged.stream(page_size=2)]
        self.assertEqual(sorted(streamed), sorted(created), "stream(page_size=2)")

        # Page by page: sizes 3, 3, 1; next_page_url points back at this engine.
        pages, records = [], []  # a python-twilio Page iterates only once
        page = paged.page(page_size=3)
        while page is not None:
            pages.append(page)
            records.append([s.sid for s in page])
            page = page.next_page()
        self.assertEqual([len(r) for r in records], [3, 3, 1], "page sizes")
        first_next = pages[0].next_page_url
        self.assertTrue(first_next, "first page has no next_page_url")
        self.assertTrue(first_next.startswith("%s/v1/Services/%s/Streams?" % (ENGINE.base, paging_service.sid)),
                        first_next)
        self.assertIn("PageSize=3&Page=1&PageToken=", first_next)
        self.assertIsNone(pages[0].previous_page_url)
        self.assertTrue(pages[2].previous_page_url, "last page has no previous_page_url")
        self.assertIsNone(pages[2].next_page_url)
        self.assertEqual(sorted(sid for r in records for sid in r), sorted(created))

        raw = self.raw_get("%s/v1/Services/%s/Streams?PageSize=3" % (ENGINE.base, paging_service.sid))
        self.assertEqual(raw["meta"]["key"], "streams")
        self.assertEqual(raw["meta"]["page"], 0)
        self.assertEqual(raw["meta"]["page_size"], 3)
        self.assertIsNone(raw["meta"]["previous_page_url"])
        self.assertTrue(raw["meta"]["first_page_url"].startswith(ENGINE.base))
        self.assertTrue(raw["meta"]["url"].startswith(ENGINE.base))
        second = self.raw_get(raw["meta"]["next_page_url"])
        self.assertEqual(second["meta"]["page"], 1)
        self.assertEqual(len(second["streams"]), 3)
        self.assertTrue(CLIENT.sync.v1.services(paging_service.sid).delete())

    def test_list_past_a_thousand(self):
        # python-twilio sends PageSize equal to its limit, uncapped: list(limit=2500) asks for 2500.
        big_service = CLIENT.sync.v1.services.create(friendly_name="a thousand and more")
        big = CLIENT.sync.v1.services(big_service.sid).sync_streams
        total = 1203
        created = [big.create(unique_name="big-%d" % i).sid for i in range(total)]

        self.assertIn(big_service.sid, [s.sid for s in CLIENT.sync.v1.services.list(limit=1000)])
        thousand = big.list(limit=1000)
        self.assertEqual(len(thousand), 1000, "list(limit=1000)")
        self.assertEqual(len({s.sid for s in thousand}), 1000)
        for limit in (2500, 5000):
            sids = [s.sid for s in big.list(limit=limit)]
            self.assertEqual(len(sids), total, "list(limit=%d) returned %d streams" % (limit, len(sids)))
            self.assertEqual(sorted(sids), sorted(created), "list(limit=%d)" % limit)
        self.assertEqual(len(big.list()), total, "list() with the default page size")

        first = big.page(page_size=2500)
        self.assertEqual(len(list(first)), 1000)
        self.assertIn("PageSize=1000&Page=1&PageToken=", first.next_page_url)
        raw = self.raw_get("%s/v1/Services/%s/Streams?PageSize=2500" % (ENGINE.base, big_service.sid))
        self.assertEqual(raw["meta"]["page_size"], 1000)
        self.assertEqual(len(raw["streams"]), 1000)
        self.assertTrue(CLIENT.sync.v1.services(big_service.sid).delete())

    def test_update_ttl(self):
        stream = self.streams().create(unique_name="ttl-updates")
        self.assertIsNone(stream.date_expires)
        with_ttl = self.streams()(stream.sid).update(ttl=60)
        self.assertEqual(with_ttl.sid, stream.sid)
        self.assertDate(with_ttl.date_expires, "date_expires after ttl 60")
        self.assertEqual(with_ttl.date_expires - with_ttl.date_updated, datetime.timedelta(seconds=60))
        self.assertEqual(self.streams()(stream.sid).fetch().date_expires, with_ttl.date_expires)
        longest = self.streams()(stream.sid).update(ttl=31536000)
        self.assertEqual(longest.date_expires - longest.date_updated, datetime.timedelta(seconds=31536000))
        cleared = self.streams()(stream.sid).update(ttl=0)
        self.assertIsNone(cleared.date_expires, "ttl 0 should clear date_expires")
        self.assertIsNone(self.streams()(stream.sid).fetch().date_expires)

    def test_update_without_parameters(self):
        stream = self.streams().create(unique_name="no-params", ttl=100)
        self.assertRestError(lambda: self.streams()(stream.sid).update(), 400, 54010, "update without Ttl")
        self.assertEqual(self.streams()(stream.sid).fetch().date_expires, stream.date_expires)

    def test_expired_stream_disappears(self):
        stream = self.streams().create(unique_name="short-lived", ttl=1)
        self.assertEqual(stream.date_expires - stream.date_created, datetime.timedelta(seconds=1))
        time.sleep(2.5)
        self.assertRestError(lambda: self.streams()(stream.sid).fetch(), 404, 20404, "fetch expired stream")
        self.assertRestError(lambda: self.streams()("short-lived").fetch(), 404, 20404,
                             "fetch expired stream by name")
        self.assertRestError(lambda: self.streams()(stream.sid).stream_messages.create(data={"late": True}),
                             404, 20404, "publish to expired stream")
        self.assertNotIn(stream.sid, [s.sid for s in self.streams().list()])
        self.assertNotEqual(self.streams().create(unique_name="short-lived").sid, stream.sid)

    def test_invalid_page_token(self):
        self.assertListError(lambda: self.streams().page(page_size=2, page_token="garbage"), 400, 21481,
                             "PageToken garbage")

    def test_delete(self):
        stream = self.streams().create(unique_name="doomed")
        self.assertTrue(self.streams()(stream.sid).delete())
        self.assertRestError(lambda: self.streams()(stream.sid).fetch(), 404, 20404, "fetch deleted stream")
        self.assertRestError(lambda: self.streams()("doomed").fetch(), 404, 20404, "fetch deleted stream by name")
        self.assertRestError(lambda: self.streams()(stream.sid).update(ttl=5), 404, 20404, "update deleted stream")
        self.assertRestError(lambda: self.streams()(stream.sid).delete(), 404, 20404, "delete deleted stream")
        self.assertRestError(lambda: self.streams()(stream.sid).stream_messages.create(data={"a": 1}),
                             404, 20404, "publish to deleted stream")
        self.assertNotIn(stream.sid, [s.sid for s in self.streams().list()])
        self.assertNotEqual(self.streams().create(unique_name="doomed").sid, stream.sid)

    def test_missing_stream(self):
        self.assertRestError(lambda: self.streams()(missing_stream_sid()).fetch(), 404, 20404, "fetch missing SID")
        self.assertRestError(lambda: self.streams()("no-such-name").fetch(), 404, 20404, "fetch missing name")
        self.assertRestError(lambda: self.streams()(missing_stream_sid()).update(ttl=10), 404, 20404,
                             "update missing stream")
        self.assertRestError(lambda: self.streams()(missing_stream_sid()).delete(), 404, 20404,
                             "delete missing stream")

    def test_duplicate_unique_name(self):
        self.streams().create(unique_name="dup")
        self.assertRestError(lambda: self.streams().create(unique_name="dup"), 409, 54301, "duplicate unique name")
        self.assertRestError(lambda: self.streams().create(unique_name="dup", ttl=10), 409, 54301,
                             "duplicate unique name with ttl")
        other = CLIENT.sync.v1.services("default").sync_streams.create(unique_name="dup")
        self.assertEqual(other.unique_name, "dup")
        self.assertTrue(CLIENT.sync.v1.services("default").sync_streams(other.sid).delete())

    def test_invalid_unique_name(self):
        self.assertRestError(lambda: self.streams().create(unique_name=""), 400, 54302, "empty unique name")
        self.assertRestError(lambda: self.streams().create(unique_name="n" * 321), 400, 54302,
                             "321-character unique name")
        self.assertRestError(lambda: self.streams().create(unique_name="TO" + random_hex(16)), 400, 54302,
                             "SID-shaped unique name")
        self.assertRestError(lambda: self.streams().create(unique_name="IS" + random_hex(16)), 400, 54302,
                             "service-SID-shaped unique name")
        longest = self.streams().create(unique_name="ü" * 320)
        self.assertEqual(longest.unique_name, "ü" * 320, "320 characters are allowed")
        self.assertEqual(self.streams()("ü" * 320).fetch().sid, longest.sid)

    def test_invalid_ttl(self):
        self.assertRestError(lambda: self.streams().create(ttl=31536001), 400, 54011, "create ttl 31536001")
        self.assertRestError(lambda: self.streams().create(ttl=-1), 400, 54011, "create ttl -1")
        self.assertRestError(lambda: self.streams().create(unique_name="bad-ttl", ttl=-1), 400, 54011,
                             "create named, ttl -1")
        self.assertRestError(lambda: self.streams()("bad-ttl").fetch(), 404, 20404,
                             "no stream was created by a refused create")
        stream = self.streams().create(unique_name="ttl-bounds", ttl=31536000)
        self.assertEqual(stream.date_expires - stream.date_created, datetime.timedelta(seconds=31536000))
        self.assertRestError(lambda: self.streams()(stream.sid).update(ttl=31536001), 400, 54011,
                             "update ttl 31536001")
        self.assertRestError(lambda: self.streams()(stream.sid).update(ttl=-1), 400, 54011, "update ttl -1")
        self.assertEqual(self.streams()(stream.sid).fetch().date_expires, stream.date_expires,
                         "a refused update changed date_expires")


class StreamMessagesTest(SyncTestCase):
    @classmethod
    def setUpClass(cls):
        cls.stream = CLIENT.sync.v1.services("default").sync_streams.create(unique_name="messages")

    def messages(self):
        return CLIENT.sync.v1.services("default").sync_streams(self.stream.sid).stream_messages

    def test_publish_echoes_data(self):
        data = {"a": 1, "text": "héllo ü & = + % ? # / 😀 日本語",
                "nested": {"list": [1, "two", None, True, 2.5], "empty": {}}}
        message = self.messages().create(data=data)
        self.assertRegex(message.sid, MESSAGE_SID)
        self.assertEqual(message.data, data)
        second = self.messages().create(data={"a": 1})
        self.assertRegex(second.sid, MESSAGE_SID)
        self.assertNotEqual(second.sid, message.sid, "message SIDs must be unique")
        self.assertEqual(self.messages().create(data={}).data, {})
        by_name = CLIENT.sync.v1.services("default").sync_streams("messages").stream_messages.create(data={"n": "ü"})
        self.assertEqual(by_name.data, {"n": "ü"})
        # A string is sent verbatim: raw UTF-8, no \u escapes.
        self.assertEqual(self.messages().create(data='{"raw":"string ü"}').data, {"raw": "string ü"})

    def test_data_too_large(self):
        # Measured as compact JSON: python sends '{"s": "…"}' (9 bytes + string), compact is 8 + string.
        exact = self.messages().create(data={"s": "x" * 4088})
        self.assertEqual(len(exact.data["s"]), 4088, "4096 bytes compact fit")
        self.assertRestError(lambda: self.messages().create(data={"s": "x" * 4089}), 413, 54006, "4097-byte Data")
        self.assertRestError(lambda: self.messages().create(data={"s": "x" * 5000}), 413, 54006, "5008-byte Data")
        # json.dumps escapes ü as \u00fc (6 bytes); compact UTF-8 JSON has it in 2 bytes.
        fits = self.messages().create(data={"s": "ü" * 2044})
        self.assertEqual(fits.data["s"], "ü" * 2044, "4096 bytes of UTF-8 fit")
        self.assertRestError(lambda: self.messages().create(data={"s": "ü" * 2045}), 413, 54006,
                             "non-ASCII Data over 4096 bytes")

    def test_data_not_json_or_not_an_object(self):
        self.assertRestError(lambda: self.messages().create(data="not-json"), 400, 54008, "Data not-json")
        self.assertRestError(lambda: self.messages().create(data=[1, 2, 3]), 400, 54008, "Data a JSON array")
        self.assertRestError(lambda: self.messages().create(data='"a string"'), 400, 54008, "Data a JSON string")
        self.assertRestError(lambda: self.messages().create(data="42"), 400, 54008, "Data a JSON number")
        self.assertRestError(lambda: self.messages().create(data='{"a":'), 400, 54008, "Data truncated JSON")
        # json.dumps writes a lone surrogate as its escape; the engine refuses it, naming it.
        error = self.assertRestError(lambda: self.messages().create(data={"text": "ok \ud83d"}), 400, 54008,
                                     "Data with a lone surrogate")
        self.assertIn("lone UTF-16 surrogate \\ud83d", error.msg)
        self.assertEqual(self.messages().create(data={"text": "ok \U0001F600"}).data, {"text": "ok \U0001F600"})

    def test_rate_limit(self):
        limited_engine = Engine(ENGINE_BINARY, ["--publish-rate", "1"])
        try:
            limited_client = client_for(limited_engine.base, CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])
            streams = limited_client.sync.v1.services("default").sync_streams
            stream = streams.create(unique_name="burst")
            refusal = None
            accepted = 0
            for i in range(1, 31):
                try:
                    message = streams(stream.sid).stream_messages.create(data={"i": i})
                    self.assertRegex(message.sid, MESSAGE_SID)
                    accepted += 1
                except TwilioRestException as error:
                    refusal = (i, error)
                    break
            self.assertIsNotNone(refusal, "30 publishes in a row were all accepted with --publish-rate 1")
            at, error = refusal
            self.assertEqual(error.status, 429, "publish %d: HTTP status (%s)" % (at, error.msg))
            self.assertEqual(error.code, 54009, "publish %d: Twilio code" % at)
            self.assertTrue(10 <= at <= 12,
                            "429 came at publish %d; expected after the 10-message burst (publish 11 or 12)" % at)
            self.assertGreaterEqual(accepted, 9)
            self.assertRestError(lambda: streams(stream.sid).stream_messages.create(data={"i": 99}), 429, 54009,
                                 "publishing again immediately")
            other = streams.create()
            self.assertRegex(streams(other.sid).stream_messages.create(data={"ok": True}).sid, MESSAGE_SID)
            self.assertTrue(limited_engine.alive(), "the rate-limited engine died; stderr:\n" + limited_engine.stderr())
        finally:
            code = limited_engine.stop()
        self.assertEqual(code, 0, "rate-limited engine did not exit cleanly on SIGTERM; stderr:\n"
                         + limited_engine.stderr())


class AuthenticationTest(SyncTestCase):
    def test_wrong_credentials(self):
        wrong_token = client_for(ENGINE.base, CREDENTIALS["account_sid"], random_hex(16))
        self.assertRestError(lambda: wrong_token.sync.v1.services("default").fetch(), 401, 20003,
                             "wrong auth token: fetch")
        self.assertRestError(lambda: wrong_token.sync.v1.services.create(friendly_name="x"), 401, 20003,
                             "wrong auth token: create service")
        self.assertListError(lambda: wrong_token.sync.v1.services.list(), 401, 20003, "wrong auth token: list")
        self.assertRestError(
            lambda: wrong_token.sync.v1.services("default").sync_streams.create(unique_name="intruder"),
            401, 20003, "wrong auth token: create stream")
        wrong_account = client_for(ENGINE.base, "AC" + random_hex(16), CREDENTIALS["auth_token"])
        self.assertRestError(lambda: wrong_account.sync.v1.services("default").fetch(), 401, 20003,
                             "unknown account SID")
        wrong_secret = client_for(ENGINE.base, CREDENTIALS["api_key"], random_hex(16), CREDENTIALS["account_sid"])
        self.assertRestError(lambda: wrong_secret.sync.v1.services("default").fetch(), 401, 20003,
                             "API key with a wrong secret")
        self.assertRestError(lambda: CLIENT.sync.v1.services("default").sync_streams("intruder").fetch(),
                             404, 20404, "a refused create created nothing")

    def test_api_key_authenticates(self):
        key_client = client_for(ENGINE.base, CREDENTIALS["api_key"], CREDENTIALS["api_secret"],
                                CREDENTIALS["account_sid"])
        service = key_client.sync.v1.services("default").fetch()
        self.assertRegex(service.sid, SERVICE_SID)
        self.assertEqual(service.account_sid, CREDENTIALS["account_sid"])
        streams = key_client.sync.v1.services("default").sync_streams
        stream = streams.create(unique_name="via-api-key", ttl=600)
        self.assertEqual(stream.created_by, "system")
        self.assertRegex(streams(stream.sid).stream_messages.create(data={"key": True}).sid, MESSAGE_SID)
        self.assertIn(stream.sid, [s.sid for s in streams.list(page_size=2)])
        self.assertTrue(streams(stream.sid).delete())


def start(binary):
    global ENGINE_BINARY
    ENGINE_BINARY = binary
    return "python3-twilio %s against %s" % (twilio.__version__, binary)


if __name__ == "__main__":
    run_tests(start)
