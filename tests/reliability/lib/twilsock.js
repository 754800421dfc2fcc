// A raw twilsock v3 subscriber for the soak: init with an access token, establish a stream
// subscription over POST /v4/Subscriptions, count stream_message_published notifications. The
// frames are those recorded from the official SDK (tests/core/twilsock/data/twilsock-frames.log;
// docs/architecture.md#contract-notes); the frame helpers are shared with
// tests/bench/twilsock_fanout.js. Needs `ws` from tests/interop's node_modules.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const interopDir = path.join(__dirname, "..", "..", "interop");
const requireInterop = createRequire(path.join(interopDir, "package.json"));

/** An npm package from tests/interop (ws, twilio), or exit with how to install it. */
function loadInterop(name) {
  try {
    return requireInterop(name);
  } catch (error) {
    console.error(`npm ${name} is not installed: run npm ci --prefix tests/interop (${error.message})`);
    process.exit(1);
  }
}

let frameCounter = 0;
const frameId = () => `TM${process.pid}-${Date.now()}-${++frameCounter}`;

function encodeFrame(header, payload) {
  const body = payload === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(payload));
  const head = Buffer.from(JSON.stringify({ ...header, payload_size: body.length }));
  return Buffer.concat([Buffer.from(`TWILSOCK V3.0 ${head.length}\r\n`), head, Buffer.from("\r\n"), body]);
}

function splitFrame(buffer) {
  const eol = buffer.indexOf("\r\n");
  if (eol < 0 || buffer.toString("latin1", 0, 14) !== "TWILSOCK V3.0 ") return null;
  const headerLength = Number(buffer.toString("latin1", 14, eol));
  const headerStart = eol + 2;
  return {
    header: buffer.toString("utf8", headerStart, headerStart + headerLength),
    payload: buffer.toString("utf8", headerStart + headerLength + 2),
  };
}

function upstream(host, method, pathAndQuery, body) {
  return {
    id: frameId(),
    method: "message",
    active_grant: "data_sync",
    payload_type: "application/json",
    http_request: {
      host,
      path: pathAndQuery,
      method,
      params: {},
      headers: { "Content-Type": "application/json", "Twilio-Request-Id": "RQ" + frameId() },
    },
    body,
  };
}

class TwilsockSubscriber {
  constructor(WebSocket, url, host, onMessage, onClose) {
    this.WebSocket = WebSocket;
    this.url = url;
    this.host = host;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.pending = new Map();
    this.closed = null;
    this.closing = false;
  }

  open(token, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const ws = new this.WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      ws.binaryType = "nodebuffer";
      const timer = setTimeout(() => reject(new Error("no init reply")), timeoutMs);
      ws.on("error", (error) => reject(error));
      ws.on("close", (code) => {
        this.closed = code;
        for (const { reject: fail } of this.pending.values()) fail(new Error(`socket closed (${code})`));
        this.pending.clear();
        if (!this.closing) this.onClose(code);
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) this.onFrame(data);
      });
      ws.on("open", () => {
        this.request({ id: frameId(), method: "init", token, continuation_token: null, metadata: { type: "sync", sdk: "soak" }, registrations: [], tweaks: null, capabilities: ["client_update"] })
          .then((reply) => {
            clearTimeout(timer);
            if (reply.status && reply.status.code === 200) resolve();
            else reject(new Error(`init refused: ${JSON.stringify(reply.status)}`));
          }, reject);
      });
    });
  }

  async subscribe(streamSid) {
    const established = new Promise((resolve) => (this.established = resolve));
    const reply = await this.request(upstream(this.host, "POST", "/v4/Subscriptions", {
      event_protocol_version: 4,
      action: "establish",
      correlation_id: Date.now(),
      retried_requests: 0,
      ttl_in_s: -1,
      requests: [{ object_sid: streamSid, object_type: "stream", last_event_id: null }],
    }));
    if (!reply.http_status || reply.http_status.code !== 200) throw new Error(`establish: ${JSON.stringify(reply.http_status)}`);
    await established;
  }

  request(frame) {
    const { body, ...header } = frame;
    return new Promise((resolve, reject) => {
      this.pending.set(header.id, { resolve, reject });
      this.ws.send(encodeFrame(header, body));
    });
  }

  onFrame(buffer) {
    const frame = splitFrame(buffer);
    if (!frame) return;
    if (frame.header.includes('"method":"notification"')) {
      if (frame.payload.includes("stream_message_published")) this.onMessage(frame.payload);
      else if (frame.payload.includes("subscription_established") && this.established) this.established();
      return;
    }
    const header = JSON.parse(frame.header);
    if (header.method === "reply") {
      const waiter = this.pending.get(header.id);
      if (!waiter) return;
      this.pending.delete(header.id);
      let payload = null;
      if (frame.payload.length > 0) {
        try {
          payload = JSON.parse(frame.payload);
        } catch {
          payload = frame.payload;
        }
      }
      waiter.resolve({ ...header, payload });
    } else if (header.method === "ping" || header.method === "client_update" || header.method === "close") {
      this.ws.send(encodeFrame({ id: header.id, method: "reply", payload_type: "application/json", status: { code: 200, status: "OK" } }));
    }
  }

  close() {
    this.closing = true;
    if (!this.ws) return;
    try {
      this.ws.send(encodeFrame({ id: frameId(), method: "close" }));
    } catch {
      // already closed
    }
    this.ws.terminate();
  }
}

module.exports = { TwilsockSubscriber, loadInterop, frameId, encodeFrame, splitFrame, upstream };
