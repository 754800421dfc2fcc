#!/usr/bin/env node
// Twilsock fan-out benchmark: one publisher, N twilsock subscribers of one stream on loopback,
// a fixed offered load; reports deliveries/s and publish->deliver latency percentiles.
//
//   node tests/bench/twilsock_fanout.js ENGINE_BINARY [options]
//     --subscribers N   twilsock subscriber connections (1000)
//     --rate R          offered publishes per second, open loop (100)
//     --seconds S       length of the measured run (10)
//     --publisher P     twilsock | rest (twilsock): who publishes
//     --workers W       subscriber threads (2)
//     --size B          pad each message's data to about B bytes of JSON (0: ~40 bytes)
//     --ack             acknowledge every notification as the official SDK does (off)
//     --json            also print one JSON line with every figure
//
// Subscribers are not the official SDK (too heavy for 1,000 per process): each is a raw `ws`
// socket speaking twilsock v3 as recorded from the SDK (init with a minted access token,
// POST /v4/Subscriptions establish, then stream_message_published notifications). The engine
// runs with --publish-rate unlimited, and with --subscriber-buffer 8192: the twilsock publisher
// sends every message of a saturation run within 1 s and reads its replies only as its one
// thread gets to them, and at the default (512 KiB) the engine cuts a connection with 4 MiB of
// unread replies as one that does not read. Latency is measured from each message's *scheduled*
// send time, so a publisher that falls behind shows up as latency instead of being hidden.
// Needs: npm ci --prefix tests/interop (npm twilio for tokens, ws for sockets).
"use strict";

const path = require("node:path");
const { Worker, isMainThread, parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
// Every thread collects its garbage before the measured window (below).
require("node:v8").setFlagsFromString("--expose-gc");
const collectGarbage = require("node:vm").runInNewContext("gc");

const interopDir = path.join(__dirname, "..", "interop");
// Twilsock frames ("TWILSOCK V3.0 <H>\r\n<header JSON, H bytes>\r\n<payload>") and upstream
// requests, as the soak's subscribers build them.
const { loadInterop: load, frameId, encodeFrame, splitFrame, upstream } = require("../reliability/lib/twilsock.js");
const WebSocket = load("ws");

// Wall clock in ms with sub-ms resolution, comparable across worker threads.
const now = () => performance.timeOrigin + performance.now();

/** One twilsock connection: init, request/reply by id, notifications to `onNotification`. */
class TwilsockSocket {
  constructor(url, { ack = false, onNotification = () => {} } = {}) {
    this.url = url;
    this.ack = ack;
    this.onNotification = onNotification;
    this.pending = new Map();
    this.closed = null;
  }

  open(token, timeoutMs = 30000) {
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
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) this.onFrame(data);
      });
      ws.on("open", () => {
        this.request({ id: frameId(), method: "init", token, continuation_token: null, metadata: { type: "sync", sdk: "bench" }, registrations: [], tweaks: null, capabilities: ["client_update"] })
          .then((reply) => {
            clearTimeout(timer);
            if (reply.status && reply.status.code === 200) resolve();
            else reject(new Error(`init refused: ${JSON.stringify(reply.status)}`));
          }, reject);
      });
    });
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
    // Notifications are the hot path: the subscriber reads the payload text directly and
    // parses the header only to acknowledge.
    if (frame.header.includes('"method":"notification"')) {
      if (this.ack) this.reply(JSON.parse(frame.header).id);
      this.onNotification(frame.payload);
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
    if (!this.ws) return;
    try {
      this.ws.send(encodeFrame({ id: frameId(), method: "close" }));
    } catch {
      // already closed
    }
    this.ws.terminate();
  }
}

// Latency histogram: 10 us buckets up to 1 s, then 1 ms buckets up to 100 s.
const FINE_BUCKETS = 100000;
const COARSE_BUCKETS = 99000;
function newHistogram() {
  return new Float64Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
}
function record(histogram, ms) {
  const us = Math.max(0, ms * 1000);
  let index = us < 1e6 ? Math.floor(us / 10) : FINE_BUCKETS + Math.floor((us - 1e6) / 1000);
  if (index >= histogram.length) index = histogram.length - 1;
  histogram[index]++;
}
function bucketMs(index) {
  return index < FINE_BUCKETS ? (index + 0.5) / 100 : 1000 + (index - FINE_BUCKETS + 0.5);
}
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

// ---------------------------------------------------------------------------------------------
// Worker: a slice of the subscribers.

async function runWorker() {
  const { url, host, streamSid, tokens, ack, connectConcurrency } = workerData;
  const histogram = newHistogram();
  const subscribers = [];
  let received = 0;
  let warmups = 0;
  let outOfOrder = 0;
  let lastDelivery = 0;
  const SEQ = /"seq":(-?\d+),"t":([0-9.]+)/;

  function subscriber() {
    const state = { lastSeq: -Infinity, socket: null };
    state.socket = new TwilsockSocket(url, {
      ack,
      onNotification(payload) {
        if (!payload.includes("stream_message_published")) {
          if (payload.includes("subscription_established") && state.established) state.established();
          return;
        }
        const match = SEQ.exec(payload);
        if (!match) return;
        const seq = Number(match[1]);
        const at = now();
        if (seq < 0) {
          warmups++;
          return;
        }
        if (seq <= state.lastSeq) outOfOrder++;
        state.lastSeq = seq;
        received++;
        lastDelivery = at;
        record(histogram, at - Number(match[2]));
      },
    });
    return state;
  }

  async function connectOne(token) {
    const state = subscriber();
    await state.socket.open(token);
    const established = new Promise((resolve) => (state.established = resolve));
    const reply = await state.socket.request(
      upstream(host, "POST", "/v4/Subscriptions", {
        event_protocol_version: 4,
        action: "establish",
        correlation_id: Date.now(),
        retried_requests: 0,
        ttl_in_s: -1,
        requests: [{ object_sid: streamSid, object_type: "stream", last_event_id: null }],
      }),
    );
    if (!reply.http_status || reply.http_status.code !== 200) throw new Error(`establish: ${JSON.stringify(reply.http_status)}`);
    await established;
    subscribers.push(state);
  }

  const started = now();
  let failures = 0;
  let firstError = null;
  let next = 0;
  async function lane() {
    while (next < tokens.length) {
      const token = tokens[next++];
      try {
        await connectOne(token);
      } catch (error) {
        failures++;
        firstError = firstError || error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: connectConcurrency }, lane));
  parentPort.postMessage({ type: "ready", connected: subscribers.length, failures, firstError, connectMs: now() - started });

  parentPort.on("message", (command) => {
    if (command === "stats") {
      const closed = subscribers.filter((s) => s.socket.closed !== null).length;
      parentPort.postMessage({ type: "stats", received, warmups, outOfOrder, lastDelivery, closed });
    } else if (command === "collect") {
      collectGarbage();
      parentPort.postMessage({ type: "collected" });
    } else if (command === "finish") {
      parentPort.postMessage({ type: "histogram", histogram, received, outOfOrder, lastDelivery }, [histogram.buffer]);
      for (const s of subscribers) s.socket.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Main: engine, stream, subscribers, paced publisher, figures.

function parseArgs(argv) {
  const options = { subscribers: 1000, rate: 100, seconds: 10, publisher: "twilsock", workers: 2, size: 0, ack: false, json: false };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--subscribers") options.subscribers = Number(value());
    else if (arg === "--rate") options.rate = Number(value());
    else if (arg === "--seconds") options.seconds = Number(value());
    else if (arg === "--publisher") options.publisher = value();
    else if (arg === "--workers") options.workers = Number(value());
    else if (arg === "--size") options.size = Number(value());
    else if (arg === "--ack") options.ack = true;
    else if (arg === "--json") options.json = true;
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else rest.push(arg);
  }
  options.binary = rest[0];
  for (const key of ["subscribers", "rate", "seconds", "workers", "size"]) {
    if (!Number.isFinite(options[key]) || options[key] < 0) throw new Error(`--${key} must be a non-negative number`);
  }
  if (!["twilsock", "rest"].includes(options.publisher)) throw new Error("--publisher is twilsock or rest");
  if (!options.binary) throw new Error("usage: twilsock_fanout.js ENGINE_BINARY [--subscribers N] [--rate R] [--seconds S] [--publisher twilsock|rest] [--workers W] [--size B] [--ack] [--json]");
  options.workers = Math.max(1, Math.min(options.workers, options.subscribers || 1));
  return options;
}

/** utime + stime of the engine process in seconds, found by its unique data dir. */
function engineCpuSeconds(dataDir) {
  const fs = require("node:fs");
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes(dataDir)) continue;
      const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
    } catch {
      // the process went away or is not ours
    }
  }
  return NaN;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const twilio = load("twilio");
  const { makeCredentials, startEngine } = require(path.join(interopDir, "engine_process.js"));
  const credentials = makeCredentials();
  const engine = await startEngine(options.binary, credentials,
    ["--publish-rate", "unlimited", "--subscriber-buffer", "8192"]);
  const workers = [];
  try {
    const rest = twilio(credentials.accountSid, credentials.authToken);
    rest.sync.baseUrl = engine.base;
    const service = await rest.sync.v1.services("default").fetch();
    const stream = await rest.sync.v1.services(service.sid).syncStreams.create({ uniqueName: "fanout-bench" });
    const url = `ws://127.0.0.1:${engine.port}/v3/wsconnect`;
    const host = `127.0.0.1:${engine.port}`;
    const mint = (identity) => {
      const token = new twilio.jwt.AccessToken(credentials.accountSid, credentials.apiKey, credentials.apiSecret, { identity, ttl: 3600 });
      token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: service.sid }));
      return token.toJwt();
    };

    // Subscribers, spread over worker threads.
    const tokens = Array.from({ length: options.subscribers }, (_, i) => mint(`subscriber-${i}`));
    const connectStarted = now();
    const ready = [];
    for (let w = 0; w < options.workers; w++) {
      const slice = tokens.filter((_, i) => i % options.workers === w);
      const worker = new Worker(__filename, {
        workerData: { url, host, streamSid: stream.sid, tokens: slice, ack: options.ack, connectConcurrency: 25 },
      });
      workers.push(worker);
      ready.push(new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      }));
    }
    const readiness = await Promise.all(ready);
    const connected = readiness.reduce((n, r) => n + r.connected, 0);
    const connectFailures = readiness.reduce((n, r) => n + r.failures, 0);
    const connectMs = now() - connectStarted;
    if (connectFailures > 0) {
      console.error(`warning: ${connectFailures} subscribers failed to connect: ${readiness.find((r) => r.firstError).firstError}`);
    }
    if (connected === 0) throw new Error("no subscriber connected");
    const stats = async () => {
      const replies = await Promise.all(workers.map((w) => new Promise((resolve) => {
        w.once("message", resolve);
        w.postMessage("stats");
      })));
      return {
        received: replies.reduce((n, r) => n + r.received, 0),
        warmups: replies.reduce((n, r) => n + r.warmups, 0),
        closed: replies.reduce((n, r) => n + r.closed, 0),
      };
    };

    // Publisher.
    let publish;
    let publisherSocket;
    const outcome = { ok: 0, failed: 0, statuses: {} };
    const replyHistogram = newHistogram(); // publish -> publish reply, from the scheduled time
    const count = (status, due) => {
      if (due !== undefined) record(replyHistogram, now() - due);
      if (status >= 200 && status < 300) outcome.ok++;
      else outcome.failed++;
      outcome.statuses[status] = (outcome.statuses[status] || 0) + 1;
    };
    const padding = options.size > 40 ? "x".repeat(options.size - 40) : null;
    const dataFor = (seq, t) => (padding ? { seq, t, pad: padding } : { seq, t });
    if (options.publisher === "twilsock") {
      publisherSocket = new TwilsockSocket(url);
      await publisherSocket.open(mint("publisher"));
      const descriptor = await publisherSocket.request(upstream(host, "GET", `/v3/Streams/${stream.sid}`));
      if (!descriptor.http_status || descriptor.http_status.code !== 200) throw new Error(`open stream over twilsock: ${JSON.stringify(descriptor.http_status)}`);
      const messagesPath = new URL(descriptor.payload.links.messages).pathname;
      publish = (data) => publisherSocket.send(upstream(host, "POST", messagesPath, { data }), (reply) => count(reply.http_status ? reply.http_status.code : 0, data.t));
    } else {
      const http = require("node:http");
      const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
      const auth = "Basic " + Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString("base64");
      const target = new URL(`${engine.base}/v1/Services/${service.sid}/Streams/${stream.sid}/Messages`);
      publish = (data) => {
        const body = "Data=" + encodeURIComponent(JSON.stringify(data));
        const request = http.request(target, {
          method: "POST",
          agent,
          headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) },
        }, (response) => {
          response.resume();
          response.on("end", () => count(response.statusCode, data.t));
        });
        request.on("error", () => count(0));
        request.end(body);
      };
    }

    // Warm-up: every subscriber must see the warm-up messages before the clock starts.
    const WARMUPS = 5;
    for (let i = 1; i <= WARMUPS; i++) publish(dataFor(-i, now()));
    const warmDeadline = now() + 30000;
    while ((await stats()).warmups < WARMUPS * connected && now() < warmDeadline) await sleep(50);
    outcome.ok = outcome.failed = 0;
    outcome.statuses = {};
    replyHistogram.fill(0);

    // Open-loop publishing at the offered rate: message i is due at start + i / rate.
    const total = Math.round(options.rate * options.seconds);
    const intervalMs = 1000 / options.rate;
    // A full collection now, in every thread, of what setting up the subscribers left behind,
    // so that no heap calls for one (10-15 ms in the publisher's, seen with --trace-gc) while
    // the publisher paces.
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once("message", resolve);
      w.postMessage("collect");
    })));
    collectGarbage();
    const cpuBefore = engineCpuSeconds(engine.dataDir);
    const start = now() + 20;
    let sent = 0;
    let maxLagMs = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        while (sent < total && start + sent * intervalMs <= t) {
          const due = start + sent * intervalMs;
          maxLagMs = Math.max(maxLagMs, t - due);
          publish(dataFor(sent, due));
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
    const cpuAfter = engineCpuSeconds(engine.dataDir);
    await sleep(200); // the last publish replies
    expected = outcome.ok * connected;

    // Figures.
    const histogram = newHistogram();
    let received = 0;
    let outOfOrder = 0;
    let lastDelivery = 0;
    for (const worker of workers) {
      const result = await new Promise((resolve) => {
        worker.once("message", resolve);
        worker.postMessage("finish");
      });
      for (let i = 0; i < histogram.length; i++) histogram[i] += result.histogram[i];
      received += result.received;
      outOfOrder += result.outOfOrder;
      lastDelivery = Math.max(lastDelivery, result.lastDelivery);
    }
    const windowS = (Math.max(lastDelivery, publishEnd) - start) / 1000;
    const figures = {
      subscribers: connected,
      connectFailures,
      connectSeconds: +(connectMs / 1000).toFixed(2),
      publisher: options.publisher,
      ack: options.ack,
      offeredRate: options.rate,
      seconds: options.seconds,
      published: sent,
      publishAccepted: outcome.ok,
      publishFailed: outcome.failed,
      publishStatuses: outcome.statuses,
      achievedPublishRate: +(sent / ((publishEnd - start) / 1000)).toFixed(1),
      publisherMaxLagMs: +maxLagMs.toFixed(2),
      expectedDeliveries: expected,
      deliveries: received,
      lost: Math.max(0, expected - received),
      outOfOrder,
      closedSubscribers: current.closed,
      deliveriesPerSecond: Math.round(received / windowS),
      latencyMs: {
        p50: +percentile(histogram, received, 0.5).toFixed(2),
        p90: +percentile(histogram, received, 0.9).toFixed(2),
        p99: +percentile(histogram, received, 0.99).toFixed(2),
        p999: +percentile(histogram, received, 0.999).toFixed(2),
        max: +percentile(histogram, received, 1).toFixed(2),
      },
      publishReplyMs: {
        p50: +percentile(replyHistogram, outcome.ok + outcome.failed, 0.5).toFixed(2),
        p99: +percentile(replyHistogram, outcome.ok + outcome.failed, 0.99).toFixed(2),
      },
      engineCpuPercent: +(((cpuAfter - cpuBefore) / windowS) * 100).toFixed(1),
    };
    console.log(`twilsock fan-out: ${connected} subscribers (connected in ${figures.connectSeconds} s, ${connectFailures} failed), publisher ${options.publisher}${options.ack ? ", acks on" : ""}`);
    console.log(`  offered ${options.rate} msg/s for ${options.seconds} s: ${sent} published (${figures.achievedPublishRate}/s, max lag ${figures.publisherMaxLagMs} ms), accepted ${outcome.ok}, refused ${outcome.failed} ${JSON.stringify(outcome.statuses)}`);
    // REST publishes travel over parallel connections, so only a twilsock publisher fixes the
    // order the engine accepts them in; for REST the count is informational.
    const orderNote = options.publisher === "rest" ? " vs send order, expected with parallel REST" : "";
    console.log(`  deliveries ${received} of ${expected} (lost ${figures.lost}, out of order ${outOfOrder}${orderNote}, closed subscribers ${current.closed}): ${figures.deliveriesPerSecond} deliveries/s`);
    console.log(`  publish->deliver latency ms: p50 ${figures.latencyMs.p50}  p90 ${figures.latencyMs.p90}  p99 ${figures.latencyMs.p99}  p99.9 ${figures.latencyMs.p999}  max ${figures.latencyMs.max}`);
    console.log(`  publish->reply latency ms: p50 ${figures.publishReplyMs.p50}  p99 ${figures.publishReplyMs.p99}`);
    console.log(`  engine CPU ${figures.engineCpuPercent}% of one core over the run`);
    if (options.json) console.log(JSON.stringify(figures));
    if (publisherSocket) publisherSocket.close();
    const ordered = options.publisher === "rest" || outOfOrder === 0;
    return received > 0 && figures.lost === 0 && ordered ? 0 : 1;
  } finally {
    for (const worker of workers) worker.terminate();
    const wasAlive = engine.alive();
    await engine.stop();
    if (!wasAlive) console.error(`streams-engine died during the benchmark; stderr:\n${engine.stderr()}`);
  }
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`twilsock_fanout: ${error.message}`);
      process.exit(1);
    },
  );
} else {
  runWorker().catch((error) => {
    parentPort.postMessage({ type: "ready", connected: 0, failures: workerData.tokens.length, firstError: error.message, connectMs: 0 });
  });
}
