"""Tests of your own code against streams-engine in CI (docs/ci.md), with Twilio's python client.

ci-engine.sh runs them with TWILIO_* set to the engine's credentials, STREAMS_ENGINE_URL to its
address and STREAMS_SEED to the snapshot every test starts from.
"""

import base64
import json
import os
import unittest
import urllib.request

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

ENGINE_URL = os.environ["STREAMS_ENGINE_URL"]
ACCOUNT_SID = os.environ["TWILIO_ACCOUNT_SID"]
AUTH_TOKEN = os.environ["TWILIO_AUTH_TOKEN"]


def engine(method, path, body=None):
    """One request to the engine's control plane: JSON in and out, its credentials."""
    credentials = base64.b64encode(("%s:%s" % (ACCOUNT_SID, AUTH_TOKEN)).encode()).decode()
    request = urllib.request.Request(
        ENGINE_URL + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Basic " + credentials, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
    return json.loads(text) if text else None


# The code under test: publishes an order, and tries once more if Twilio is unavailable.
def publish_order(client, order):
    messages = client.sync.v1.services("default").sync_streams("orders").stream_messages
    try:
        return messages.create(data=order)
    except TwilioRestException as error:
        if error.status != 503:
            raise
        return messages.create(data=order)


class OrdersTest(unittest.TestCase):
    def setUp(self):
        # Every test starts from the seed: no leftovers, no fault rules.
        engine("POST", "/_engine/reset")
        with open(os.environ["STREAMS_SEED"], encoding="utf-8") as seed:
            engine("PUT", "/_engine/state", json.load(seed))
        self.client = Client(ACCOUNT_SID, AUTH_TOKEN)
        self.client.sync.base_url = ENGINE_URL  # the only change from talking to Twilio

    def test_publishes_to_the_seeded_stream(self):
        message = publish_order(self.client, {"id": 1, "items": ["tea"]})
        self.assertTrue(message.sid.startswith("TZ"))
        self.assertEqual(message.data, {"id": 1, "items": ["tea"]})

    def test_tries_again_when_twilio_is_unavailable(self):
        engine("POST", "/_engine/faults",
               {"stream": "orders", "rest_error": {"status": 503, "count": 1, "on": "messages"}})
        self.assertTrue(publish_order(self.client, {"id": 2}).sid.startswith("TZ"))
        [rule] = engine("GET", "/_engine/faults")["faults"]
        self.assertEqual(rule["acted"]["rest_errors"], 1)

    def test_gives_up_when_twilio_stays_unavailable(self):
        engine("POST", "/_engine/faults",
               {"stream": "orders", "rest_error": {"status": 503, "count": 2, "on": "messages"}})
        with self.assertRaises(TwilioRestException) as caught:
            publish_order(self.client, {"id": 3})
        self.assertEqual(caught.exception.status, 503)

    def test_a_session_stream_expires_after_an_hour(self):
        streams = self.client.sync.v1.services("default").sync_streams
        session = streams.create(unique_name="session-42", ttl=3600)
        engine("POST", "/_engine/clock", {"advance_seconds": 3601})  # an hour passes at once
        with self.assertRaises(TwilioRestException) as caught:
            streams(session.sid).fetch()
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(streams("orders").fetch().unique_name, "orders")  # no TTL: still there


if __name__ == "__main__":
    unittest.main(verbosity=2)
