#!/usr/bin/python3
"""Twilio's docs example for Sync Streams in Python, as written: no base URL, no credentials in the
code. Run by test_zero_change.py with only the environment `streams-engine --show-proxy-env`
prints; prints what it saw as JSON."""

import json
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

client = Client()  # TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the environment
service = client.sync.v1.services("default")
stream = service.sync_streams.create(unique_name=sys.argv[1])
message = service.sync_streams(stream.sid).stream_messages.create(data={"via": "zero-change"})
listed = [s.unique_name for s in service.sync_streams.list(limit=50)]
fetched = service.sync_streams(stream.sid).fetch()
updated = service.sync_streams(stream.sid).update(ttl=600)
try:
    service.sync_streams("TO" + "0" * 32).fetch()
    refused = None
except TwilioRestException as error:
    refused = {"status": error.status, "code": error.code}
removed = service.sync_streams(stream.sid).delete()
print(json.dumps({
    "sid": stream.sid, "url": stream.url, "message": message.sid, "data": message.data,
    "listed": listed, "fetched_name": fetched.unique_name,
    "expires": updated.date_expires.isoformat() if updated.date_expires else None,
    "refused": refused, "removed": removed,
}))
