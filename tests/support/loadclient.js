// The Node side of the load scripts, in one place: tests/bench/twilsock_fanout.js,
// tests/bench/compare.d/mqtt_fanout.js, tests/reliability/soak.js and tests/reliability/kill9.js.
//
//   loadInterop(name)      an npm package from tests/interop (ws, twilio), or exit saying how to
//                          install it
//   parseArgs(...)         their command lines: --kebab-case options named by a defaults object
//   TwilsockSocket         the one raw twilsock v3 client (init, request/reply by id, stream
//                          subscriptions, notifications), with its frame helpers
//   newHistogram, ...      the latency histogram (10 us buckets to 1 s, then 1 ms to 100 s)
//   fan-out harness        subscriber worker threads (connect, count, report) and the open-loop
//                          paced run that the twilsock and the MQTT fan-out share
//
// The twilsock frames are those recorded from the official SDK
// (tests/core/twilsock/data/twilsock-frames.log; docs/architecture.md#contract-notes).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");
const { Worker, parentPort } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");

// ---------------------------------------------------------------------------------------------
// Small helpers.

const interopDir = path.join(__dirname, "..", "interop");
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

/** Wall clock in ms with sub-ms resolution, comparable across worker threads. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let gc = null;
/** A full garbage collection in this thread (before a measured window). */
function collectGarbage() {
  if (!gc) {
    require("node:v8").setFlagsFromString("--expose-gc");
    gc = require("node:vm").runInNewContext("gc");
  }
  gc();
}

/** utime + stime of a process in seconds, from /proc (NaN when it is gone or not given). */
function cpuSeconds(pid) {
  if (!pid) return NaN;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * A command line: each key of `defaults` is an option, `--kebab-case` for its camelCase name. A
 * boolean default makes a flag; a key listed in `strings` takes any text; every other option takes
 * a non-negative number. Exactly `positional` other arguments are expected (`usage` says which);
 * they come back as `options.positional`.
 */
function parseArgs(argv, defaults, { usage, positional = 0, strings = [] } = {}) {
  const options = { ...defaults };
  const flag = (key) => "--" + key.replace(/[A-Z]/g, (letter) => "-" + letter.toLowerCase());
  const keys = new Map(Object.keys(defaults).map((key) => [flag(key), key]));
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const key = keys.get(arg);
    if (key === undefined) {
      if (arg.startsWith("--") || positional === 0) throw new Error(`unknown option ${arg}`);
      rest.push(arg);
      continue;
    }
    if (typeof defaults[key] === "boolean") {
      options[key] = true;
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
    const text = argv[++i];
    if (strings.includes(key)) {
      options[key] = text;
      continue;
    }
    const number = Number(text);
    if (!Number.isFinite(number) || number < 0) throw new Error(`${arg} needs a non-negative number`);
    options[key] = number;
  }
  if (rest.length !== positional) throw new Error(`usage: ${usage}`);
  options.positional = rest;
  return options;
}

// ---------------------------------------------------------------------------------------------
// Twilsock v3: "TWILSOCK V3.0 <H>\r\n<header JSON, H bytes>\r\n<payload>".

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

/** An upstream (Sync) request as the SDK sends it; `body` becomes the frame's payload. */
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

let WebSocket = null;

/**
 * One twilsock connection: init with an access token, requests answered by id, a stream
 * subscription (POST /v4/Subscriptions establish, then subscription_established), and
 * stream_message_published payloads (the text, unparsed: the hot path) to `onMessage`. Answers
 * ping, client_update and close as the SDK does, and with `ack` every notification too.
 * `onClose(code)` hears of a close this side did not ask for.
 */
class TwilsockSocket {
  constructor(url, { ack = false, sdk = "load", onMessage = () => {}, onClose = () => {} } = {}) {
    this.url = url;
    this.ack = ack;
    this.sdk = sdk;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.pending = new Map();
    this.established = null;
    this.closed = null;
    this.closing = false;
  }

  open(token, timeoutMs = 60000) {
    WebSocket = WebSocket || loadInterop("ws");
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
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
        this.request({ id: frameId(), method: "init", token, continuation_token: null, metadata: { type: "sync", sdk: this.sdk }, registrations: [], tweaks: null, capabilities: ["client_update"] })
          .then((reply) => {
            clearTimeout(timer);
            if (reply.status && reply.status.code === 200) resolve();
            else reject(new Error(`init refused: ${JSON.stringify(reply.status)}`));
          }, reject);
      });
    });
  }

  /** Establishes a subscription to one stream; resolves once subscription_established came. */
  async subscribe(host, streamSid) {
    const established = new Promise((resolve) => (this.established = resolve));
    const reply = await this.request(upstream(host, "POST", "/v4/Subscriptions", {
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

  /** Sends a frame (`body` becomes its payload) and resolves with the reply's header + payload. */
  request(frame) {
    const { body, ...header } = frame;
    return new Promise((resolve, reject) => {
      this.pending.set(header.id, { resolve, reject });
      this.ws.send(encodeFrame(header, body));
    });
  }

  /** Fire and forget: `onReply` gets the reply later (publishing open loop). */
  send(frame, onReply) {
    const { body, ...header } = frame;
    if (onReply) this.pending.set(header.id, { resolve: onReply, reject: onReply });
    this.ws.send(encodeFrame(header, body));
  }

  onFrame(buffer) {
    const frame = splitFrame(buffer);
    if (!frame) return;
    // Notifications are the hot path: the payload text is read directly, and the header is
    // parsed only to acknowledge.
    if (frame.header.includes('"method":"notification"')) {
      if (this.ack) this.reply(JSON.parse(frame.header).id);
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
      this.reply(header.id); // the SDK acknowledges every non-reply frame
    }
  }

  reply(id) {
    this.ws.send(encodeFrame({ id, method: "reply", payload_type: "application/json", status: { code: 200, status: "OK" } }));
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

// ---------------------------------------------------------------------------------------------
// Latency histogram: 10 us buckets up to 1 s, then 1 ms buckets up to 100 s.

const FINE_BUCKETS = 100000;
const COARSE_BUCKETS = 99000;
const newHistogram = () => new Float64Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
function record(histogram, ms) {
  const us = Math.max(0, ms * 1000);
  let index = us < 1e6 ? Math.floor(us / 10) : FINE_BUCKETS + Math.floor((us - 1e6) / 1000);
  if (index >= histogram.length) index = histogram.length - 1;
  histogram[index]++;
}
const bucketMs = (index) => (index < FINE_BUCKETS ? (index + 0.5) / 100 : 1000 + (index - FINE_BUCKETS + 0.5));
function percentile(histogram, total, p) {
  if (total === 0) return NaN;
  const rank = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return bucketMs(i);
  }
  return bucketMs(histogram.length - 1);
}
/** p50, p90, p99, p99.9 and max of `total` recorded values, in ms to two decimals. */
function latencyFigures(histogram, total) {
  const at = (p) => +percentile(histogram, total, p).toFixed(2);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

// ---------------------------------------------------------------------------------------------
// Worker threads, and the fan-out run the twilsock and MQTT benchmarks share.

/**
 * Connects every item (a token, a client id) with `connectOne(item)`, `concurrency` at a time.
 * Resolves {connected: what connectOne resolved to, failures, firstError}.
 */
async function connectInLanes(items, concurrency, connectOne) {
  const connected = [];
  let failures = 0;
  let firstError = null;
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const item = items[next++];
      try {
        connected.push(await connectOne(item));
      } catch (error) {
        failures++;
        firstError = firstError || error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { connected, failures, firstError };
}

/**
 * `count` workers running `file`, worker w with workerData `dataFor(w)`; resolves
 * {workers, readiness} once each has posted its first ("ready") message.
 */
async function startWorkers(file, count, dataFor) {
  const workers = [];
  const ready = [];
  for (let w = 0; w < count; w++) {
    const worker = new Worker(file, { workerData: dataFor(w) });
    workers.push(worker);
    ready.push(new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    }));
  }
  try {
    return { workers, readiness: await Promise.all(ready) };
  } catch (error) {
    for (const worker of workers) worker.terminate();
    throw error;
  }
}

/** Posts `command` to every worker; resolves with each one's answer of `type`. */
function askWorkers(workers, command, type) {
  return Promise.all(workers.map((w) => new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      w.off("message", onMessage);
      resolve(message);
    };
    w.on("message", onMessage);
    w.postMessage(command);
  })));
}

/** The data of a fan-out message: {"seq":N,"t":T}, padded to about `size` bytes of JSON. */
function messageData(seq, t, size) {
  return size > 40 ? { seq, t, pad: "x".repeat(size - 40) } : { seq, t };
}

const SEQ = /"seq":(-?\d+),"t":([0-9.]+)/;

/**
 * A fan-out worker thread: connects its subscribers, `concurrency` at a time, with
 * `connectOne(item, onPayload)` (resolving to something with `closed` and `close()`), counts and
 * times the payloads they pass to `onPayload`, and answers the main thread (fanoutRun).
 */
async function runFanoutWorker(items, concurrency, connectOne) {
  const histogram = newHistogram();
  let received = 0;
  let warmups = 0;
  let outOfOrder = 0;
  let lastDelivery = 0;
  const counter = () => {
    let lastSeq = -Infinity;
    return (payload) => {
      const match = SEQ.exec(payload);
      if (!match) return;
      const seq = Number(match[1]);
      const at = now();
      if (seq < 0) {
        warmups++;
        return;
      }
      if (seq <= lastSeq) outOfOrder++;
      lastSeq = seq;
      received++;
      lastDelivery = at;
      record(histogram, at - Number(match[2]));
    };
  };
  const started = now();
  const { connected: subscribers, failures, firstError } = await connectInLanes(items, concurrency, (item) => connectOne(item, counter()));
  parentPort.postMessage({ type: "ready", connected: subscribers.length, failures, firstError, connectMs: now() - started });

  parentPort.on("message", (command) => {
    if (command === "stats") {
      const closed = subscribers.filter((s) => s.closed !== null).length;
      parentPort.postMessage({ type: "stats", received, warmups, outOfOrder, lastDelivery, closed });
    } else if (command === "collect") {
      collectGarbage();
      parentPort.postMessage({ type: "collected" });
    } else if (command === "finish") {
      parentPort.postMessage({ type: "histogram", histogram, received, outOfOrder, lastDelivery }, [histogram.buffer]);
      for (const s of subscribers) s.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

/**
 * The measured part of a fan-out run, against `workers` (runFanoutWorker) holding `connected`
 * subscribers: warm-up messages until every subscriber saw them, a garbage collection in every
 * thread, then `publish(data, due)` open loop at `rate` msg/s for `seconds` (message i is due at
 * start + i / rate, and its "t" is that time, so a publisher that falls behind shows as latency),
 * then a drain until every delivery arrived or nothing new came for 3 s. `beforeMeasure` runs
 * after the warm-up, `afterDrain` after the drain (it may return the deliveries to expect
 * instead of every message to every subscriber). `cpuSeconds()` is the server's CPU clock.
 */
async function fanoutRun({ workers, connected, publish, rate, seconds, size, cpuSeconds: serverCpu, beforeMeasure = () => {}, afterDrain = async () => undefined }) {
  const stats = async () => {
    const replies = await askWorkers(workers, "stats", "stats");
    return {
      received: replies.reduce((n, r) => n + r.received, 0),
      warmups: replies.reduce((n, r) => n + r.warmups, 0),
      closed: replies.reduce((n, r) => n + r.closed, 0),
    };
  };

  // Warm-up: every subscriber must see the warm-up messages before the clock starts.
  const WARMUPS = 5;
  for (let i = 1; i <= WARMUPS; i++) publish(messageData(-i, now(), size));
  const warmDeadline = now() + 30000;
  while ((await stats()).warmups < WARMUPS * connected && now() < warmDeadline) await sleep(50);
  beforeMeasure();

  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  // A full collection now, in every thread, of what setting up the subscribers left behind, so
  // that no heap calls for one (10-15 ms in the publisher's, seen with --trace-gc) while the
  // publisher paces.
  await askWorkers(workers, "collect", "collected");
  collectGarbage();
  const cpuBefore = serverCpu();
  const start = now() + 20;
  let sent = 0;
  let maxLagMs = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const t = now();
      while (sent < total && start + sent * intervalMs <= t) {
        const due = start + sent * intervalMs;
        maxLagMs = Math.max(maxLagMs, t - due);
        publish(messageData(sent, due, size), due);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, start + sent * intervalMs - now())));
    };
    setTimeout(tick, 20);
  });
  const publishEnd = now();

  // Drain: until every delivery arrived, or nothing new for 3 s (dropped or lost).
  let expected = total * connected;
  let last = -1;
  let lastChange = now();
  let current = await stats();
  while (current.received < expected && now() - lastChange < 3000) {
    await sleep(50);
    current = await stats();
    if (current.received !== last) {
      last = current.received;
      lastChange = now();
    }
  }
  const cpuAfter = serverCpu();
  const expectedAfter = await afterDrain();
  if (expectedAfter !== undefined) expected = expectedAfter;

  const histogram = newHistogram();
  let received = 0;
  let outOfOrder = 0;
  let lastDelivery = 0;
  for (const result of await askWorkers(workers, "finish", "histogram")) {
    for (let i = 0; i < histogram.length; i++) histogram[i] += result.histogram[i];
    received += result.received;
    outOfOrder += result.outOfOrder;
    lastDelivery = Math.max(lastDelivery, result.lastDelivery);
  }
  const windowS = (Math.max(lastDelivery, publishEnd) - start) / 1000;
  return {
    sent,
    received,
    outOfOrder,
    closed: current.closed,
    cpuPercent: +(((cpuAfter - cpuBefore) / windowS) * 100).toFixed(1),
    figures: {
      offeredRate: rate,
      seconds,
      published: sent,
      achievedPublishRate: +(sent / ((publishEnd - start) / 1000)).toFixed(1),
      publisherMaxLagMs: +maxLagMs.toFixed(2),
      expectedDeliveries: expected,
      deliveries: received,
      lost: Math.max(0, expected - received),
      outOfOrder,
      closedSubscribers: current.closed,
      deliveriesPerSecond: Math.round(received / windowS),
      latencyMs: latencyFigures(histogram, received),
    },
  };
}

module.exports = {
  TwilsockSocket,
  askWorkers,
  connectInLanes,
  cpuSeconds,
  encodeFrame,
  fanoutRun,
  frameId,
  latencyFigures,
  loadInterop,
  messageData,
  newHistogram,
  now,
  parseArgs,
  percentile,
  record,
  runFanoutWorker,
  sleep,
  splitFrame,
  startWorkers,
  upstream,
};
