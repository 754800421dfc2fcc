#!/usr/bin/env node
// MQTT fan-out benchmark, the mosquitto side of tests/bench/compare: one publisher, N QoS 0
// subscribers of one topic on loopback, a fixed offered load; prints the same figures as
// twilsock_fanout.js (deliveries/s, publish->deliver latency percentiles) with --json.
//
//   node tests/bench/compare.d/mqtt_fanout.js --port P [options]
//     --subscribers N   MQTT subscriber connections (1000)
//     --rate R          offered publishes per second, open loop (100)
//     --seconds S       length of the measured run (10)
//     --workers W       subscriber threads (2)
//     --size B          pad each message to about B bytes of JSON (0: ~40 bytes)
//     --broker-pid PID  report this process's CPU over the run (mosquitto)
//     --json            also print one JSON line with every figure
//
// The client side mirrors twilsock_fanout.js so both brokers face the same client: subscribers
// are raw sockets speaking the protocol directly (there raw `ws` + twilsock frames, here raw
// `net` + MQTT 3.1.1 packets), spread over the same number of worker threads, reading the
// payload text with the same regular expression, the same latency histogram and the same
// open-loop publisher (latency counted from each message's scheduled send time). A generic MQTT
// library would make the mosquitto side pay for client overhead the twilsock side does not.
"use strict";

const net = require("node:net");
const { Worker, isMainThread, parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
// Every thread collects its garbage before the measured window (below).
require("node:v8").setFlagsFromString("--expose-gc");
const collectGarbage = require("node:vm").runInNewContext("gc");
const fs = require("node:fs");

const now = () => performance.timeOrigin + performance.now();
const TOPIC = "bench/fanout";

// ---------------------------------------------------------------------------------------------
// MQTT 3.1.1 packets (only what QoS 0 fan-out needs).

function remainingLength(n) {
  const bytes = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}
function utf8Field(text) {
  const body = Buffer.from(text);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}
function packet(firstByte, body) {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}
function connectPacket(clientId) {
  // Protocol "MQTT" level 4, clean session, keep-alive 600 s.
  return packet(0x10, Buffer.concat([utf8Field("MQTT"), Buffer.from([4, 0x02, 0x02, 0x58]), utf8Field(clientId)]));
}
function subscribePacket(packetId, topic) {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId);
  return packet(0x82, Buffer.concat([id, utf8Field(topic), Buffer.from([0])]));
}
const topicField = utf8Field(TOPIC);
function publishPacket(payloadText) {
  return packet(0x30, Buffer.concat([topicField, Buffer.from(payloadText)]));
}

/** One MQTT connection: CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH payloads to `onPublish`. */
class MqttSocket {
  constructor(port, onPublish = () => {}) {
    this.port = port;
    this.onPublish = onPublish;
    this.buffer = Buffer.alloc(0);
    this.closed = null;
    this.waiter = null;
  }

  open(clientId, timeoutMs = 30000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: this.port, noDelay: true });
      this.socket = socket;
      const timer = setTimeout(() => reject(new Error("no CONNACK")), timeoutMs);
      socket.on("error", reject);
      socket.on("close", () => {
        this.closed = true;
      });
      socket.on("data", (chunk) => this.onData(chunk));
      this.waiter = (type, body) => {
        clearTimeout(timer);
        if (type === 2 && body[1] === 0) resolve();
        else reject(new Error(`CONNACK refused (${body[1]})`));
      };
      socket.on("connect", () => socket.write(connectPacket(clientId)));
    });
  }

  subscribe(topic) {
    return new Promise((resolve, reject) => {
      this.waiter = (type, body) => (type === 9 && body[2] === 0 ? resolve() : reject(new Error(`SUBACK ${body[2]}`)));
      this.socket.write(subscribePacket(1, topic));
    });
  }

  publish(payloadText) {
    this.socket.write(publishPacket(payloadText));
  }

  onData(chunk) {
    let buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      if (buffer.length - offset < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = offset + 1;
      let complete = false;
      for (; i < buffer.length && i < offset + 5; i++) {
        length += (buffer[i] & 0x7f) * multiplier;
        multiplier *= 128;
        if ((buffer[i] & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buffer.length - i < length) break;
      const type = buffer[offset] >> 4;
      const body = buffer.subarray(i, i + length);
      if (type === 3) {
        const topicLength = body.readUInt16BE(0);
        this.onPublish(body.toString("utf8", 2 + topicLength)); // QoS 0: no packet id
      } else if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = null;
        waiter(type, body);
      }
      offset = i + length;
    }
    this.buffer = offset < buffer.length ? Buffer.from(buffer.subarray(offset)) : Buffer.alloc(0);
  }

  close() {
    if (this.socket) this.socket.destroy();
  }
}

// Latency histogram: the same buckets as twilsock_fanout.js (10 us up to 1 s, then 1 ms).
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

// ---------------------------------------------------------------------------------------------
// Worker: a slice of the subscribers.

async function runWorker() {
  const { port, ids, connectConcurrency } = workerData;
  const histogram = newHistogram();
  const subscribers = [];
  let received = 0;
  let warmups = 0;
  let outOfOrder = 0;
  let lastDelivery = 0;
  const SEQ = /"seq":(-?\d+),"t":([0-9.]+)/;

  async function connectOne(id) {
    const state = { lastSeq: -Infinity };
    state.socket = new MqttSocket(port, (payload) => {
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
    });
    await state.socket.open(id);
    await state.socket.subscribe(TOPIC);
    subscribers.push(state);
  }

  let failures = 0;
  let firstError = null;
  let next = 0;
  async function lane() {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        await connectOne(id);
      } catch (error) {
        failures++;
        firstError = firstError || error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: connectConcurrency }, lane));
  parentPort.postMessage({ type: "ready", connected: subscribers.length, failures, firstError });

  parentPort.on("message", (command) => {
    if (command === "stats") {
      const closed = subscribers.filter((s) => s.socket.closed).length;
      parentPort.postMessage({ type: "stats", received, warmups, closed });
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
// Main: subscribers, paced publisher, figures.

function parseArgs(argv) {
  const options = { port: 0, subscribers: 1000, rate: 100, seconds: 10, workers: 2, size: 0, brokerPid: 0, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return Number(argv[++i]);
    };
    if (arg === "--port") options.port = value();
    else if (arg === "--subscribers") options.subscribers = value();
    else if (arg === "--rate") options.rate = value();
    else if (arg === "--seconds") options.seconds = value();
    else if (arg === "--workers") options.workers = value();
    else if (arg === "--size") options.size = value();
    else if (arg === "--broker-pid") options.brokerPid = value();
    else if (arg === "--json") options.json = true;
    else throw new Error(`unknown option ${arg}`);
  }
  for (const key of ["port", "subscribers", "rate", "seconds", "workers", "size", "brokerPid"]) {
    if (!Number.isFinite(options[key]) || options[key] < 0) throw new Error(`--${key} must be a non-negative number`);
  }
  if (!options.port) throw new Error("usage: mqtt_fanout.js --port P [--subscribers N] [--rate R] [--seconds S] [--workers W] [--size B] [--broker-pid PID] [--json]");
  options.workers = Math.max(1, Math.min(options.workers, options.subscribers || 1));
  return options;
}

function cpuSeconds(pid) {
  if (!pid) return NaN;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const workers = [];
  const ids = Array.from({ length: options.subscribers }, (_, i) => `sub-${process.pid}-${i}`);
  const ready = [];
  const connectStarted = now();
  for (let w = 0; w < options.workers; w++) {
    const worker = new Worker(__filename, {
      workerData: { port: options.port, ids: ids.filter((_, i) => i % options.workers === w), connectConcurrency: 25 },
    });
    workers.push(worker);
    ready.push(new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    }));
  }
  try {
    const readiness = await Promise.all(ready);
    const connected = readiness.reduce((n, r) => n + r.connected, 0);
    const connectFailures = readiness.reduce((n, r) => n + r.failures, 0);
    const connectMs = now() - connectStarted;
    if (connectFailures > 0) console.error(`warning: ${connectFailures} subscribers failed to connect: ${readiness.find((r) => r.firstError).firstError}`);
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

    const publisher = new MqttSocket(options.port);
    await publisher.open(`pub-${process.pid}`);
    const padding = options.size > 40 ? "x".repeat(options.size - 40) : null;
    const dataFor = (seq, t) => JSON.stringify(padding ? { seq, t, pad: padding } : { seq, t });

    const WARMUPS = 5;
    for (let i = 1; i <= WARMUPS; i++) publisher.publish(dataFor(-i, now()));
    const warmDeadline = now() + 30000;
    while ((await stats()).warmups < WARMUPS * connected && now() < warmDeadline) await sleep(50);

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
    const cpuBefore = cpuSeconds(options.brokerPid);
    const start = now() + 20;
    let sent = 0;
    let maxLagMs = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        while (sent < total && start + sent * intervalMs <= t) {
          const due = start + sent * intervalMs;
          maxLagMs = Math.max(maxLagMs, t - due);
          publisher.publish(dataFor(sent, due));
          sent++;
        }
        if (sent >= total) resolve();
        else setTimeout(tick, Math.max(0, Math.min(5, start + sent * intervalMs - now())));
      };
      setTimeout(tick, 20);
    });
    const publishEnd = now();

    const expected = total * connected;
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
    const cpuAfter = cpuSeconds(options.brokerPid);

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
    publisher.close();
    const windowS = (Math.max(lastDelivery, publishEnd) - start) / 1000;
    const figures = {
      subscribers: connected,
      connectFailures,
      connectSeconds: +(connectMs / 1000).toFixed(2),
      offeredRate: options.rate,
      seconds: options.seconds,
      published: sent,
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
      brokerCpuPercent: +(((cpuAfter - cpuBefore) / windowS) * 100).toFixed(1),
    };
    console.log(`mqtt fan-out: ${connected} QoS 0 subscribers (connected in ${figures.connectSeconds} s, ${connectFailures} failed)`);
    console.log(`  offered ${options.rate} msg/s for ${options.seconds} s: ${sent} published (${figures.achievedPublishRate}/s, max lag ${figures.publisherMaxLagMs} ms)`);
    console.log(`  deliveries ${received} of ${expected} (lost ${figures.lost}, out of order ${outOfOrder}, closed subscribers ${current.closed}): ${figures.deliveriesPerSecond} deliveries/s`);
    console.log(`  publish->deliver latency ms: p50 ${figures.latencyMs.p50}  p90 ${figures.latencyMs.p90}  p99 ${figures.latencyMs.p99}  p99.9 ${figures.latencyMs.p999}  max ${figures.latencyMs.max}`);
    console.log(`  broker CPU ${figures.brokerCpuPercent}% of one core over the run`);
    if (options.json) console.log(JSON.stringify(figures));
    return received > 0 && figures.lost === 0 && outOfOrder === 0 ? 0 : 1;
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`mqtt_fanout: ${error.message}`);
      process.exit(1);
    },
  );
} else {
  runWorker().catch((error) => {
    parentPort.postMessage({ type: "ready", connected: 0, failures: workerData.ids.length, firstError: error.message });
  });
}
