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
const { isMainThread, parentPort, workerData } = require("node:worker_threads");
// The latency histogram, the subscriber workers and the paced run, shared with
// ../twilsock_fanout.js (and the reliability scripts).
const { cpuSeconds, fanoutRun, now, parseArgs, runFanoutWorker, startWorkers } = require("../../support/loadclient.js");

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

// ---------------------------------------------------------------------------------------------
// Worker: a slice of the subscribers.

function runWorker() {
  const { port, ids, connectConcurrency } = workerData;
  return runFanoutWorker(ids, connectConcurrency, async (id, onPayload) => {
    const socket = new MqttSocket(port, onPayload);
    await socket.open(id);
    await socket.subscribe(TOPIC);
    return socket;
  });
}

// ---------------------------------------------------------------------------------------------
// Main: subscribers, paced publisher, figures.

const USAGE = "mqtt_fanout.js --port P [--subscribers N] [--rate R] [--seconds S] [--workers W] [--size B] [--broker-pid PID] [--json]";

function parseOptions(argv) {
  const options = parseArgs(argv,
    { port: 0, subscribers: 1000, rate: 100, seconds: 10, workers: 2, size: 0, brokerPid: 0, json: false },
    { usage: USAGE });
  if (!options.port) throw new Error(`usage: ${USAGE}`);
  options.workers = Math.max(1, Math.min(options.workers, options.subscribers || 1));
  return options;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const ids = Array.from({ length: options.subscribers }, (_, i) => `sub-${process.pid}-${i}`);
  const connectStarted = now();
  const { workers, readiness } = await startWorkers(__filename, options.workers, (w) => ({
    port: options.port, ids: ids.filter((_, i) => i % options.workers === w), connectConcurrency: 25,
  }));
  try {
    const connected = readiness.reduce((n, r) => n + r.connected, 0);
    const connectFailures = readiness.reduce((n, r) => n + r.failures, 0);
    const connectMs = now() - connectStarted;
    if (connectFailures > 0) console.error(`warning: ${connectFailures} subscribers failed to connect: ${readiness.find((r) => r.firstError).firstError}`);
    if (connected === 0) throw new Error("no subscriber connected");

    const publisher = new MqttSocket(options.port);
    await publisher.open(`pub-${process.pid}`);
    const run = await fanoutRun({
      workers,
      connected,
      publish: (data) => publisher.publish(JSON.stringify(data)),
      rate: options.rate,
      seconds: options.seconds,
      size: options.size,
      cpuSeconds: () => cpuSeconds(options.brokerPid),
    });
    publisher.close();

    const { sent, received, outOfOrder } = run;
    const figures = {
      subscribers: connected,
      connectFailures,
      connectSeconds: +(connectMs / 1000).toFixed(2),
      ...run.figures,
      brokerCpuPercent: run.cpuPercent,
    };
    console.log(`mqtt fan-out: ${connected} QoS 0 subscribers (connected in ${figures.connectSeconds} s, ${connectFailures} failed)`);
    console.log(`  offered ${options.rate} msg/s for ${options.seconds} s: ${sent} published (${figures.achievedPublishRate}/s, max lag ${figures.publisherMaxLagMs} ms)`);
    console.log(`  deliveries ${received} of ${figures.expectedDeliveries} (lost ${figures.lost}, out of order ${outOfOrder}, closed subscribers ${run.closed}): ${figures.deliveriesPerSecond} deliveries/s`);
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
