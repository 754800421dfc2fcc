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

const { isMainThread, workerData } = require("node:worker_threads");
const { makeCredentials, startEngine } = require("../support/engineprocess.js");
// The twilsock client, the latency histogram, the subscriber workers and the paced run, shared
// with compare.d/mqtt_fanout.js and the reliability scripts.
const {
  TwilsockSocket, cpuSeconds, fanoutRun, loadInterop: load, newHistogram, now, parseArgs, percentile, record, runFanoutWorker, startWorkers, upstream,
} = require("../support/loadclient.js");

// ---------------------------------------------------------------------------------------------
// Worker: a slice of the subscribers.

function runWorker() {
  const { url, host, streamSid, tokens, ack, connectConcurrency } = workerData;
  return runFanoutWorker(tokens, connectConcurrency, async (token, onPayload) => {
    const socket = new TwilsockSocket(url, { ack, sdk: "bench", onMessage: onPayload });
    await socket.open(token, 30000);
    await socket.subscribe(host, streamSid);
    return socket;
  });
}

// ---------------------------------------------------------------------------------------------
// Main: engine, stream, subscribers, paced publisher, figures.

const USAGE = "twilsock_fanout.js ENGINE_BINARY [--subscribers N] [--rate R] [--seconds S] [--publisher twilsock|rest] [--workers W] [--size B] [--ack] [--json]";

function parseOptions(argv) {
  const options = parseArgs(argv,
    { subscribers: 1000, rate: 100, seconds: 10, publisher: "twilsock", workers: 2, size: 0, ack: false, json: false },
    { usage: USAGE, positional: 1, strings: ["publisher"] });
  options.binary = options.positional[0];
  if (!["twilsock", "rest"].includes(options.publisher)) throw new Error("--publisher is twilsock or rest");
  options.workers = Math.max(1, Math.min(options.workers, options.subscribers || 1));
  return options;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const twilio = load("twilio");
  const credentials = makeCredentials();
  const engine = await startEngine(options.binary, credentials,
    ["--publish-rate", "unlimited", "--subscriber-buffer", "8192"]);
  let workers = [];
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
    const started = await startWorkers(__filename, options.workers, (w) => ({
      url, host, streamSid: stream.sid, tokens: tokens.filter((_, i) => i % options.workers === w), ack: options.ack, connectConcurrency: 25,
    }));
    workers = started.workers;
    const readiness = started.readiness;
    const connected = readiness.reduce((n, r) => n + r.connected, 0);
    const connectFailures = readiness.reduce((n, r) => n + r.failures, 0);
    const connectMs = now() - connectStarted;
    if (connectFailures > 0) {
      console.error(`warning: ${connectFailures} subscribers failed to connect: ${readiness.find((r) => r.firstError).firstError}`);
    }
    if (connected === 0) throw new Error("no subscriber connected");

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
    if (options.publisher === "twilsock") {
      publisherSocket = new TwilsockSocket(url, { sdk: "bench" });
      await publisherSocket.open(mint("publisher"), 30000);
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

    const run = await fanoutRun({
      workers,
      connected,
      publish,
      rate: options.rate,
      seconds: options.seconds,
      size: options.size,
      cpuSeconds: () => cpuSeconds(engine.pid),
      beforeMeasure() {
        // The warm-up's publishes do not count.
        outcome.ok = outcome.failed = 0;
        outcome.statuses = {};
        replyHistogram.fill(0);
      },
      async afterDrain() {
        await new Promise((resolve) => setTimeout(resolve, 200)); // the last publish replies
        return outcome.ok * connected;
      },
    });

    // Figures.
    const { sent, received, outOfOrder } = run;
    const figures = {
      subscribers: connected,
      connectFailures,
      connectSeconds: +(connectMs / 1000).toFixed(2),
      publisher: options.publisher,
      ack: options.ack,
      ...run.figures,
      publishAccepted: outcome.ok,
      publishFailed: outcome.failed,
      publishStatuses: outcome.statuses,
      publishReplyMs: {
        p50: +percentile(replyHistogram, outcome.ok + outcome.failed, 0.5).toFixed(2),
        p99: +percentile(replyHistogram, outcome.ok + outcome.failed, 0.99).toFixed(2),
      },
      engineCpuPercent: run.cpuPercent,
    };
    console.log(`twilsock fan-out: ${connected} subscribers (connected in ${figures.connectSeconds} s, ${connectFailures} failed), publisher ${options.publisher}${options.ack ? ", acks on" : ""}`);
    console.log(`  offered ${options.rate} msg/s for ${options.seconds} s: ${sent} published (${figures.achievedPublishRate}/s, max lag ${figures.publisherMaxLagMs} ms), accepted ${outcome.ok}, refused ${outcome.failed} ${JSON.stringify(outcome.statuses)}`);
    // REST publishes travel over parallel connections, so only a twilsock publisher fixes the
    // order the engine accepts them in; for REST the count is informational.
    const orderNote = options.publisher === "rest" ? " vs send order, expected with parallel REST" : "";
    console.log(`  deliveries ${received} of ${figures.expectedDeliveries} (lost ${figures.lost}, out of order ${outOfOrder}${orderNote}, closed subscribers ${run.closed}): ${figures.deliveriesPerSecond} deliveries/s`);
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
    require("node:worker_threads").parentPort.postMessage({ type: "ready", connected: 0, failures: workerData.tokens.length, firstError: error.message, connectMs: 0 });
  });
}
