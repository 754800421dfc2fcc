// Interop: the engine's control plane (`/_engine/…`, docs/engine.md#control-plane) as Twilio's
// official clients see it. Plain HTTP (node's fetch, Basic auth) drives the control plane; npm
// `twilio` (REST) and npm `twilio-sync` (live, over twilsock) see what it does: injected REST errors
// and the client's autoRetry, dropped, delayed and reordered deliveries, the engine's clock
// expiring streams, snapshots moved between engines and surviving kill -9, forced disconnects.
// Every test runs on engines of its own, started for it.
//
// Run: node tests/interop/engine_control.test.js <path-to-streams-engine>
// Needs: npm ci --prefix tests/interop
"use strict";

const sdk = require("./sync_sdk"); // first: exits 1 when npm twilio or twilio-sync is missing
const { STEP_MS, SYNC_VERSION, EventLog, twilio, within, connected, established, streamLogs } = sdk;

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const { describe, it, before, afterEach } = require("node:test");
const { loopbackEnvironment, makeCredentials, startEngine } = require("../support/engineprocess.js");
const { assertTwilioError, basic, controlPlane } = require("./control_plane");

const ENGINE_BINARY = process.argv[2];
const TWILIO_VERSION = require("twilio/package.json").version;

loopbackEnvironment(process.env);

const SID = {
  service: /^IS[0-9a-f]{32}$/,
  stream: /^TO[0-9a-f]{32}$/,
  message: /^TZ[0-9a-f]{32}$/,
};
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const TEST_MS = 60000;
const randomHex = (bytes) => crypto.randomBytes(bytes).toString("hex");

// A stuck SDK timer or socket must not keep the process alive until ctest's timeout.
const watchdog = setTimeout(() => {
  console.error("engine_control.test.js: still running after 270 s, giving up");
  process.exit(1);
}, 270000);
watchdog.unref();

const credentials = makeCredentials();
const clients = []; // SyncClients of the running test, shut down after it
let engines = []; // {engine, expectDead} of the running test, stopped after it

const killEngines = () => {
  for (const { engine } of engines) engine.killNow();
};
process.on("exit", killEngines);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killEngines();
    process.exit(1);
  });
}

/** An npm twilio client on the engine at `base`; `options` as twilio(…, options). */
function restClient(base, options) {
  const client = twilio(credentials.accountSid, credentials.authToken, options);
  client.sync.baseUrl = base;
  return client;
}

/**
 * Starts an engine for the running test and wires the clients to it: {engine, cp (control
 * plane), rest (npm twilio), defaultSid()}.
 */
async function launch(extraArgs = [], options = {}) {
  const engine = await startEngine(ENGINE_BINARY, credentials, extraArgs, options);
  const entry = { engine, expectDead: false };
  engines.push(entry);
  return wire(engine, entry);
}

function wire(engine, entry) {
  const rest = restClient(engine.base);
  return {
    engine,
    entry,
    cp: controlPlane(engine, credentials),
    rest,
    async defaultSid() {
      return (await rest.sync.v1.services("default").fetch()).sid;
    },
    streams(serviceSid) {
      return rest.sync.v1.services(serviceSid).syncStreams;
    },
  };
}

/** Polls `check()` (async, truthy when done) every 50 ms until it holds or `ms` pass. */
async function waitUntil(check, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Awaits `promise`, which must reject with npm twilio's RestException carrying `status` / `code`. */
async function expectRestError(promise, status, code, what) {
  let error;
  try {
    const value = await promise;
    assert.fail(`${what}: expected HTTP ${status} / code ${code}, but it succeeded with ${JSON.stringify(value)}`);
  } catch (caught) {
    if (caught instanceof assert.AssertionError) throw caught;
    error = caught;
  }
  assert.ok(error instanceof twilio.RestException, `${what}: expected a RestException, got ${error && error.message}`);
  assert.equal(error.status, status, `${what}: HTTP status (message: ${error.message})`);
  assert.equal(error.code, code, `${what}: Twilio error code (message: ${error.message})`);
  assert.equal(error.moreInfo, `https://www.twilio.com/docs/errors/${code}`, `${what}: more_info`);
  return error;
}

/**
 * A twilio-sync client `name` on `session`'s engine, subscribed to each of `streamIds` (unique
 * names) in `serviceSid`. Resolves to {peer, subs}: subs[id] = {stream, logs, arrivals, states},
 * arrivals being every message received, in order, as {sid, data, at (performance.now())}.
 * `ttl`: the access token's lifetime in seconds.
 */
async function subscriber(session, name, serviceSid, streamIds, { ttl = 3600 } = {}) {
  const token = sdk.mintToken(credentials, { identity: name, grantServiceSid: serviceSid, ttl });
  const peer = sdk.syncClient(name, token, session.engine, clients);
  await connected(peer);
  const subs = {};
  for (const id of streamIds) {
    const stream = await within(peer.client.stream({ id, mode: "open_existing" }), STEP_MS, `${name} opens ${id}`);
    const states = new EventLog(stream, "_subscriptionStateChanged", `${name} ${id}`);
    const arrivals = [];
    stream.on("messagePublished", ({ message }) => arrivals.push({ sid: message.sid, data: message.data, at: performance.now() }));
    const logs = streamLogs(stream, `${name} ${id}`);
    await established(stream, `${name} on ${id}`);
    subs[id] = { stream, logs, arrivals, states };
  }
  return { peer, subs };
}

/** Publishes `data` over REST (npm twilio) and checks the acknowledgement. */
async function publish(session, serviceSid, stream, data) {
  const message = await session.streams(serviceSid)(stream).streamMessages.create({ data });
  assert.match(message.sid, SID.message, `publish to ${stream}: message sid`);
  return message;
}

/** The resource's JSON as npm twilio built it, with this engine's base URL made neutral. */
function normalised(instance, base) {
  return JSON.parse(JSON.stringify(instance.toJSON()).split(base).join("http://ENGINE"));
}

/** A snapshot without the fields that differ between two exports of the same state. */
function comparable(snapshot) {
  const { exported_at: exportedAt, ...rest } = snapshot;
  assert.match(exportedAt, DATE, "exported_at");
  return rest;
}

afterEach(async () => {
  const shutdownErrors = (await sdk.shutdownAll(clients)).filter((r) => r instanceof Error);
  const stopped = [];
  for (const { engine, expectDead } of engines) {
    const wasAlive = engine.alive();
    const status = await engine.stop();
    if (!expectDead) stopped.push({ wasAlive, status, stderr: engine.stderr() });
  }
  engines = [];
  for (const { wasAlive, status, stderr } of stopped) {
    assert.ok(wasAlive, `streams-engine died during the test: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
    assert.equal(status.code, 0, `streams-engine did not exit cleanly on SIGTERM: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
  }
  assert.deepEqual(shutdownErrors.map((e) => e.message), [], "SyncClient.shutdown() failed");
});

describe(`the engine's control plane with npm twilio ${TWILIO_VERSION} and twilio-sync ${SYNC_VERSION}`, () => {
  before(() => {
    assert.ok(ENGINE_BINARY, "usage: node engine_control.test.js <path-to-streams-engine>");
  });

  it("health answers without credentials; every other route is 401 without them", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();

    const fresh = await s.cp.health();
    assert.equal(fresh.status, "ready", "health status");
    assert.match(fresh.version, /^\d+\.\d+\.\d+/, "health version");
    assert.equal(fresh.services, 1, "a fresh engine has the default service only");
    assert.equal(fresh.streams, 0, "a fresh engine has no streams");
    assert.equal(fresh.live_connections, 0, "a fresh engine has no live connections");

    await s.streams(serviceSid).create({ uniqueName: "one" });
    await s.streams(serviceSid).create();
    await subscriber(s, "alice", serviceSid, ["one"]);
    const busy = await s.cp.health();
    assert.deepEqual([busy.services, busy.streams, busy.live_connections], [1, 2, 1], "health counts after 2 creates and 1 SDK connection");

    // The same health with credentials, wrong ones included: it never asks.
    const wrong = basic(credentials.accountSid, randomHex(16));
    assert.equal((await s.cp.request("GET", "/_engine/health", undefined, { auth: wrong })).status, 200, "health with wrong credentials");
    const before = comparable(await s.cp.exportState());

    const validSnapshot = { format: 1, services: [{ sid: "IS" + randomHex(16) }] };
    const routes = [
      ["GET", "/_engine/state"],
      ["PUT", "/_engine/state", validSnapshot],
      ["POST", "/_engine/reset"],
      ["GET", "/_engine/clock"],
      ["POST", "/_engine/clock", { advance_seconds: 3601 }],
      ["GET", "/_engine/faults"],
      ["POST", "/_engine/faults", { drop: 1 }],
      ["DELETE", "/_engine/faults"],
      ["DELETE", "/_engine/faults/fault-1"],
      ["GET", "/_engine/traffic"],
      ["GET", "/_engine/traffic?after=0&limit=5"],
    ];
    const refusals = [
      ["no credentials", null],
      ["a wrong auth token", wrong],
      ["a wrong API key secret", basic(credentials.apiKey, randomHex(16))],
      ["an unknown account", basic("AC" + randomHex(16), credentials.authToken)],
      ["not Basic", `Bearer ${credentials.authToken}`],
    ];
    // A success clears an address's failures: without one after each refusal, the engine would
    // slow this client down after 5 of them (docs/engine.md#credentials).
    const succeed = async () => assert.equal((await fetch(`${s.engine.base}/v1/Services/default`, { headers: { Authorization: basic(credentials.accountSid, credentials.authToken) } })).status, 200);
    for (const [method, route, body] of routes) {
      for (const [how, auth] of refusals) {
        const answer = await s.cp.request(method, route, body, { auth });
        assertTwilioError(answer, 401, 20003, `${method} ${route} with ${how}`);
        assert.equal(answer.headers.get("www-authenticate"), 'Basic realm="Twilio API"', `${method} ${route} with ${how}: WWW-Authenticate`);
        await succeed();
      }
    }
    t.diagnostic(`${routes.length} routes x ${refusals.length} kinds of bad credentials -> 401 / 20003`);

    // Nothing those refused requests asked for happened.
    assert.deepEqual(comparable(await s.cp.exportState()), before, "state after refused requests");
    assert.equal((await s.cp.clock()).offset_seconds, 0, "clock offset after a refused advance");
    assert.deepEqual(await s.cp.faults(), [], "fault rules after a refused add");

    // The API key works as well as the auth token.
    assert.deepEqual(comparable(await s.cp.expect(200, "GET", "/_engine/state", undefined, { auth: "key" })), before, "state with the API key");

    // Unknown paths, wrong methods, bodies that are not JSON.
    for (const route of ["/_engine/nope", "/_engine/", "/_engine/state/extra", "/_engine/faults/fault-1/x"]) {
      assertTwilioError(await s.cp.request("GET", route), 404, 20404, `GET ${route}`);
    }
    const methods = [
      ["DELETE", "/_engine/health", ["GET"]],
      ["POST", "/_engine/state", ["GET", "PUT"]],
      ["GET", "/_engine/reset", ["POST"]],
      ["PUT", "/_engine/clock", ["GET", "POST"]],
      ["PUT", "/_engine/faults", ["DELETE", "GET", "POST"]],
      ["POST", "/_engine/traffic", ["GET"]],
    ];
    for (const [method, route, allowed] of methods) {
      const answer = await s.cp.request(method, route, method === "GET" || method === "DELETE" ? undefined : {});
      assertTwilioError(answer, 405, 20405, `${method} ${route}`);
      const allow = (answer.headers.get("allow") || "").split(",").map((m) => m.trim()).filter((m) => m && m !== "HEAD");
      assert.deepEqual(allow.sort(), allowed, `${method} ${route}: Allow`);
    }
    for (const [method, route] of [["PUT", "/_engine/state"], ["POST", "/_engine/faults"], ["POST", "/_engine/clock"]]) {
      assertTwilioError(await s.cp.request(method, route, '{"format": 1,'), 400, 20400, `${method} ${route} with broken JSON`, /^Invalid JSON: .* at line 1, column \d+/);
    }
    // JSON whatever the Content-Type says.
    const asForm = await s.cp.request("POST", "/_engine/clock", '{"advance_seconds": 0}', { headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(asForm.status, 200, `JSON sent as a form: ${asForm.text}`);
    assert.deepEqual(comparable(await s.cp.exportState()), before, "state after the refused requests");
  });

  describe("rest_error: an injected 429 / 54009 on publishes", () => {
    const rule = { stream: "orders", rest_error: { status: 429, code: 54009, count: 2, method: "POST", on: "messages" } };

    it("npm twilio with autoRetry retries it and then succeeds; acted.rest_errors equals count", { timeout: TEST_MS }, async (t) => {
      const s = await launch();
      const serviceSid = await s.defaultSid();
      await s.streams(serviceSid).create({ uniqueName: "orders" });
      const added = await s.cp.addFault(rule);
      assert.match(added.id, /^fault-\d+$/, "rule id");
      assert.deepEqual(added.acted, { total: 0, dropped: 0, delayed: 0, reordered: 0, rest_errors: 0, disconnected: 0 }, "acted of a new rule");
      const mark = (await s.cp.traffic()).last_id;

      const retrying = restClient(s.engine.base, { autoRetry: true, maxRetries: 3 });
      const message = await retrying.sync.v1.services(serviceSid).syncStreams("orders").streamMessages.create({ data: { n: 1 } });
      assert.match(message.sid, SID.message, "autoRetry: the publish succeeded in the end");
      assert.deepEqual(message.data, { n: 1 });

      const after = await s.cp.fault(added.id);
      assert.equal(after.acted.rest_errors, 2, "acted.rest_errors");
      // The traffic log shows what the client did: two refusals by the rule, then the publish.
      const traffic = await s.cp.traffic(`after=${mark}`);
      const publishes = traffic.entries.filter((e) => e.kind === "rest" && e.method === "POST" && e.path.endsWith("/Streams/orders/Messages"));
      assert.deepEqual(
        publishes.map((e) => [e.status, e.code, e.fault ?? null]),
        [[429, 54009, added.id], [429, 54009, added.id], [201, null, null]],
        `the publishes in the traffic log: ${JSON.stringify(traffic.entries)}`,
      );
      for (const entry of publishes) {
        assert.equal(entry.path, `/v1/Services/${serviceSid}/Streams/orders/Messages`, "traffic path");
        assert.equal(entry.who, credentials.accountSid, "traffic who");
        assert.ok(!("body" in entry), "no body without --traffic-bodies");
      }
      const text = JSON.stringify(traffic);
      for (const secret of [credentials.authToken, credentials.apiSecret, basic(credentials.accountSid, credentials.authToken)]) {
        assert.ok(!text.includes(secret), "a secret in the traffic log");
      }
      assert.ok(!traffic.entries.some((e) => e.path.startsWith("/_engine")), "control-plane requests in the traffic log");
      t.diagnostic(`autoRetry: 429, 429, 201 -> ${message.sid}`);

      // The rule as added: every field as given, defaults filled in.
      assert.equal(added.service, "*", "service defaults to *");
      assert.equal(added.stream, "orders");
      assert.match(added.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, "created_at");
      assert.deepEqual(
        { ...added.rest_error },
        { status: 429, code: 54009, count: 2, method: "POST", on: "messages", probability: 1, message: `Injected by engine fault rule ${added.id}` },
        "rest_error with its defaults filled in",
      );
    });

    it("without autoRetry the client sees exactly count refusals, then success; nothing refused is published", { timeout: TEST_MS }, async (t) => {
      const s = await launch();
      const serviceSid = await s.defaultSid();
      await s.streams(serviceSid).create({ uniqueName: "orders" });
      const { subs } = await subscriber(s, "bob", serviceSid, ["orders"]);
      const count = 3;
      const added = await s.cp.addFault({ ...rule, rest_error: { ...rule.rest_error, count } });

      // Other requests pass: another route (on streams), another method (GET).
      await s.streams(serviceSid).create({ uniqueName: "unaffected" });
      await s.streams(serviceSid)("orders").fetch();
      assert.equal((await s.cp.fault(added.id)).acted.rest_errors, 0, "a stream create or a fetch hit the rule");

      // The first refusal raw, for its headers.
      const raw = await fetch(`${s.engine.base}/v1/Services/${serviceSid}/Streams/orders/Messages`, {
        method: "POST",
        headers: { Authorization: basic(credentials.accountSid, credentials.authToken), "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ Data: JSON.stringify({ refused: 0 }) }),
      });
      const rawAnswer = { status: raw.status, headers: raw.headers, text: await raw.text() };
      rawAnswer.json = JSON.parse(rawAnswer.text);
      assertTwilioError(rawAnswer, 429, 54009, "refusal 1", `Injected by engine fault rule ${added.id}`);
      assert.equal(raw.headers.get("retry-after"), "1", "refusal 1: Retry-After");

      const plain = restClient(s.engine.base);
      const messages = plain.sync.v1.services(serviceSid).syncStreams("orders").streamMessages;
      for (let i = 2; i <= count; i++) {
        await expectRestError(messages.create({ data: { refused: i } }), 429, 54009, `refusal ${i}`);
      }
      const first = await messages.create({ data: { accepted: 1 } });
      const second = await messages.create({ data: { accepted: 2 } });
      assert.match(first.sid, SID.message);
      assert.match(second.sid, SID.message);
      const listed = await s.cp.fault(added.id);
      assert.equal(listed.acted.rest_errors, count, "acted.rest_errors");
      t.diagnostic(`${count} refusals, then ${first.sid} and ${second.sid}`);

      // Refused publishes were not delivered: the subscriber got exactly the accepted two.
      await subs.orders.logs.published.waitFor((e) => e.message.sid === second.sid, STEP_MS, "the second accepted message");
      assert.deepEqual(subs.orders.arrivals.map((a) => a.sid), [first.sid, second.sid], "what the subscriber received");
    });
  });

  it("drop: 1 — a twilio-sync subscriber receives nothing while the messages are published", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    for (const name of ["lossy", "control"]) await s.streams(serviceSid).create({ uniqueName: name });
    const { subs } = await subscriber(s, "carol", serviceSid, ["lossy", "control"]);
    const added = await s.cp.addFault({ stream: "lossy", drop: 1 });
    assert.equal(added.drop, 1);

    const controlSids = [];
    for (let i = 0; i < 10; i++) {
      await publish(s, serviceSid, "lossy", { i });
      controlSids.push((await publish(s, serviceSid, "control", { i })).sid);
    }
    await subs.control.logs.published.waitFor((e) => e.message.sid === controlSids[9], STEP_MS, "the last control message");
    assert.deepEqual(subs.control.arrivals.map((a) => a.sid), controlSids, "the control stream's messages");
    await waitUntil(async () => (await s.cp.fault(added.id)).acted.dropped === 10, STEP_MS, "acted.dropped reaching 10");

    // Without the rule a sentinel comes through; deliveries to one connection keep their order,
    // so nothing dropped can still be on its way.
    await s.cp.removeFault(added.id);
    const sentinel = await publish(s, serviceSid, "lossy", { sentinel: true });
    await subs.lossy.logs.published.waitFor((e) => e.message.sid === sentinel.sid, STEP_MS, "the sentinel");
    assert.deepEqual(subs.lossy.arrivals.map((a) => a.sid), [sentinel.sid], "the dropped stream received only the sentinel");
    t.diagnostic("10 published and acknowledged, 0 received; 10 on the control stream");
  });

  it("drop: 0.3 with a seed — the same strict, non-empty subset arrives on every run", { timeout: TEST_MS }, async (t) => {
    const total = 40;
    const run = async (s, label) => {
      const serviceSid = await s.defaultSid();
      await s.streams(serviceSid).create({ uniqueName: "lossy" });
      const { subs } = await subscriber(s, `dave-${label}`, serviceSid, ["lossy"]);
      const added = await s.cp.addFault({ stream: "lossy", drop: 0.3, seed: 42 });
      assert.equal(added.seed, 42);
      for (let seq = 0; seq < total; seq++) await publish(s, serviceSid, "lossy", { seq });
      const acted = await waitUntil(async () => {
        const { acted: a } = await s.cp.fault(added.id);
        return a.dropped + subs.lossy.arrivals.length === total ? a : null;
      }, STEP_MS, `${label}: every delivery dropped or received`);
      await s.cp.removeFault(added.id);
      const sentinel = await publish(s, serviceSid, "lossy", { sentinel: true });
      await subs.lossy.logs.published.waitFor((e) => e.message.sid === sentinel.sid, STEP_MS, `${label}: the sentinel`);
      const seqs = subs.lossy.arrivals.filter((a) => a.sid !== sentinel.sid).map((a) => a.data.seq);
      assert.equal(acted.dropped, total - seqs.length, `${label}: acted.dropped`);
      assert.ok(acted.total >= acted.dropped, `${label}: acted.total ${acted.total} < dropped ${acted.dropped}`);
      await sdk.shutdownAll(clients);
      return seqs;
    };

    const s = await launch();
    const first = await run(s, "run 1");
    assert.ok(first.length > 0, "drop 0.3 let nothing through");
    assert.ok(first.length < total, "drop 0.3 dropped nothing");
    assert.deepEqual(first, [...first].sort((a, b) => a - b), "drop alone reordered deliveries");
    await s.cp.reset();
    const second = await run(s, "run 2 (after reset)");
    assert.deepEqual(second, first, "the subset after a reset, same seed");
    const other = await launch();
    const third = await run(other, "run 3 (another engine)");
    assert.deepEqual(third, first, "the subset on another engine, same seed");
    t.diagnostic(`seed 42: ${first.length} of ${total} arrived on all three runs: ${first.join(",")}`);
  });

  it("reorder_window: 5 (seeded) delivers a permutation of everything published, never a loss", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    await s.streams(serviceSid).create({ uniqueName: "shuffled" });
    const { subs } = await subscriber(s, "erin", serviceSid, ["shuffled"]);
    const added = await s.cp.addFault({ stream: "shuffled", reorder_window: 5, seed: 7 });
    assert.equal(added.reorder_window, 5);
    const total = 40;
    for (let seq = 0; seq < total; seq++) await publish(s, serviceSid, "shuffled", { seq });
    await subs.shuffled.logs.published.until(() => subs.shuffled.arrivals.length >= total, STEP_MS, `${total} messages`);

    const seqs = subs.shuffled.arrivals.map((a) => a.data.seq);
    assert.deepEqual([...seqs].sort((a, b) => a - b), [...Array(total).keys()], `the same multiset: ${seqs.join(",")}`);
    const outOfOrder = seqs.filter((seq, i) => seq !== i).length;
    assert.ok(outOfOrder > 0, "reorder_window 5 delivered 40 messages in publish order");
    seqs.forEach((seq, i) => assert.ok(Math.abs(seq - i) <= 4, `message ${seq} arrived at position ${i}: outside any window of 5`));
    assert.ok((await s.cp.fault(added.id)).acted.reordered > 0, "acted.reordered");

    // Nothing more is on its way: no duplicates behind the sentinel.
    await s.cp.removeFault(added.id);
    const sentinel = await publish(s, serviceSid, "shuffled", { sentinel: true });
    await subs.shuffled.logs.published.waitFor((e) => e.message.sid === sentinel.sid, STEP_MS, "the sentinel");
    assert.equal(subs.shuffled.arrivals.length, total + 1, "deliveries after the sentinel");
    t.diagnostic(`arrival order: ${seqs.join(",")} (${outOfOrder} out of place)`);
  });

  it("delay_ms visibly delays delivery, not the publish's acknowledgement", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    await s.streams(serviceSid).create({ uniqueName: "slow" });
    const { subs } = await subscriber(s, "frank", serviceSid, ["slow"]);
    const delay = 800;
    const measure = async (data) => {
      const sent = performance.now();
      const message = await publish(s, serviceSid, "slow", data);
      const acked = performance.now();
      const got = await subs.slow.logs.published.waitFor((e) => e.message.sid === message.sid, STEP_MS + delay, "the message");
      assert.ok(got);
      const arrival = subs.slow.arrivals.find((a) => a.sid === message.sid);
      return { ack: acked - sent, delivery: arrival.at - sent };
    };
    const undelayed = await measure({ rule: false });
    const added = await s.cp.addFault({ stream: "slow", delay_ms: delay });
    assert.equal(added.delay_ms, delay);
    assert.equal(added.jitter_ms, 0, "jitter_ms defaults to 0");
    const delayed = [];
    for (let i = 0; i < 3; i++) delayed.push(await measure({ rule: true, i }));
    for (const [i, m] of delayed.entries()) {
      assert.ok(m.delivery >= delay, `message ${i} delivered ${m.delivery.toFixed(1)} ms after its publish was sent, under delay_ms ${delay}`);
      assert.ok(m.delivery < delay + 3000, `message ${i} delivered only after ${m.delivery.toFixed(1)} ms`);
      assert.ok(m.ack < delay, `the publish's acknowledgement waited ${m.ack.toFixed(1)} ms`);
    }
    assert.equal((await s.cp.fault(added.id)).acted.delayed, 3, "acted.delayed");
    t.diagnostic(`without the rule ${undelayed.delivery.toFixed(1)} ms; with delay_ms ${delay}: ${delayed.map((m) => m.delivery.toFixed(1)).join(", ")} ms (acks ${delayed.map((m) => m.ack.toFixed(1)).join(", ")} ms)`);
  });

  it("advancing the clock 3601 s expires a Ttl=3600 stream (404 / 20404, the SDK's 'removed'); bad advances are 400", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    const streams = s.streams(serviceSid);

    const clock0 = await s.cp.clock();
    assert.equal(clock0.offset_seconds, 0, "a fresh engine's offset");
    assert.match(clock0.now, DATE, "clock now");
    assert.ok(Math.abs(clock0.now_ms - Date.now()) < 5000, `clock now_ms ${clock0.now_ms} vs ${Date.now()}`);
    assert.ok(Math.abs(Date.parse(clock0.now) - clock0.now_ms) < 1000, "now and now_ms agree");

    const expiring = await streams.create({ uniqueName: "expiring", ttl: 3600 });
    const later = await streams.create({ uniqueName: "later", ttl: 7200 });
    const forever = await streams.create({ uniqueName: "forever" });
    // A token that outlives the advances: this test is about the streams' TTL, not the token's.
    const { subs } = await subscriber(s, "grace", serviceSid, ["expiring", "later"], { ttl: 3 * 86400 });

    const advanced = await s.cp.advance(3601);
    assert.equal(advanced.offset_seconds, 3601, "offset after advancing 3601 s");
    assert.equal(advanced.expired_streams, 1, "expired_streams");
    assert.ok(Math.abs(advanced.now_ms - (Date.now() + 3601000)) < 5000, `now_ms after the advance: ${advanced.now}`);
    assert.match(advanced.now, DATE);

    await expectRestError(streams(expiring.sid).fetch(), 404, 20404, "fetch the expired stream by SID");
    await expectRestError(streams("expiring").fetch(), 404, 20404, "fetch the expired stream by name");
    const removed = await subs.expiring.logs.removed.waitFor(() => true, STEP_MS, "after the clock advanced");
    assert.equal(removed.isLocal, false, "removed isLocal");
    assert.equal(subs.later.logs.removed.count(), 0, "the Ttl=7200 stream's subscriber got 'removed'");
    assert.equal((await streams(later.sid).fetch()).sid, later.sid, "the Ttl=7200 stream is still there");
    assert.equal((await streams(forever.sid).fetch()).dateExpires, null, "the stream without TTL is still there");
    assert.deepEqual((await streams.list()).map((x) => x.sid), [later.sid, forever.sid], "the list after the advance");
    assert.equal((await s.cp.clock()).offset_seconds, 3601, "GET clock after the advance");
    t.diagnostic("advance 3601 s: Ttl=3600 gone (404, SDK 'removed'), Ttl=7200 and no-TTL streams kept");

    // Dates written afterwards use the engine's time.
    const made = await streams.create({ uniqueName: "made-later", ttl: 60 });
    assert.ok(Math.abs(made.dateCreated.getTime() - (Date.now() + 3601000)) < 5000, `date_created ${made.dateCreated.toISOString()} is not engine time`);
    assert.equal(made.dateExpires.getTime() - made.dateCreated.getTime(), 60000, "date_expires - date_created");

    // Refused advances change nothing.
    const bad = [
      [{ advance_seconds: -1 }, "negative"],
      [{ advance_seconds: -0.5 }, "a negative fraction"],
      [{ advance_seconds: "10" }, "a string"],
      [{ advance_seconds: "abc" }, "not a number"],
      [{ advance_seconds: null }, "null"],
      [{ advance_seconds: true }, "a boolean"],
      [{ advance_seconds: [10] }, "an array"],
      [{}, "missing"],
      [{ advance_seconds: 315360001 }, "over 10 years"],
    ];
    for (const [body, what] of bad) {
      const answer = await s.cp.request("POST", "/_engine/clock", body);
      assertTwilioError(answer, 400, 20400, `advance ${what}`, "Invalid parameter advance_seconds");
    }
    // Valid JSON grammar but no double: refused, as bad JSON or as a bad parameter.
    assertTwilioError(await s.cp.request("POST", "/_engine/clock", '{"advance_seconds": 1e400}'), 400, 20400, "advance 1e400", /^Invalid (JSON|parameter advance_seconds)/);
    assert.equal((await s.cp.clock()).offset_seconds, 3601, "offset after refused advances");
    t.diagnostic(`${bad.length} bad advances -> 400 / 20400 naming advance_seconds`);

    // Fractions and zero are fine; the second advance passes the expiry of the Ttl=7200 stream
    // and of the one made with Ttl=60 after the first advance.
    assert.equal((await s.cp.advance(0)).offset_seconds, 3601, "advance 0");
    const second = await s.cp.advance(3599.5);
    assert.equal(second.offset_seconds, 7200.5, "offsets add up, fractions kept");
    assert.equal(second.expired_streams, 2, "the second advance expired the Ttl=7200 and the later Ttl=60 stream");
    await subs.later.logs.removed.waitFor(() => true, STEP_MS, "after the second advance");
    await expectRestError(streams(later.sid).fetch(), 404, 20404, "fetch the Ttl=7200 stream after 7200.5 s");
    const decade = await s.cp.advance(315360000);
    assert.equal(decade.offset_seconds, 315360000 + 7200.5, "advance by the most allowed");
    assert.equal((await streams(forever.sid).fetch()).sid, forever.sid, "a stream without TTL outlives ten years");
  });

  it("a snapshot exported from one engine and imported into another gives identical fetches and lists", { timeout: TEST_MS }, async (t) => {
    const a = await launch();
    const aDefault = await a.defaultSid();
    await a.rest.sync.v1.services("default").update({ friendlyName: "Renamed default" });
    const custom = await a.rest.sync.v1.services.create({
      friendlyName: "Orders ü & co",
      webhookUrl: "https://example.com/hook?x=1",
      reachabilityWebhooksEnabled: true,
      aclEnabled: true,
      reachabilityDebouncingEnabled: true,
      reachabilityDebouncingWindow: 12000,
      webhooksFromRestEnabled: true,
    });
    const plain = await a.rest.sync.v1.services.create({ friendlyName: "plain" });
    await a.rest.sync.v1.services.create({ friendlyName: "empty" });
    for (const [serviceSid, n] of [[aDefault, 6], [custom.sid, 4], [plain.sid, 3]]) {
      for (let i = 0; i < n; i++) {
        await a.streams(serviceSid).create(i % 3 === 2 ? {} : { uniqueName: `s-${i}-ü x & y`, ttl: i % 2 ? 600 + i : undefined });
      }
    }
    const doomed = await a.streams(custom.sid).create({ uniqueName: "doomed" });
    await a.streams(custom.sid)(doomed.sid).remove();
    const heidi = await subscriber(a, "heidi", aDefault, []);
    const sdkMade = await within(heidi.peer.client.stream({ id: "made-by-heidi", mode: "create_new", ttl: 900 }), STEP_MS, "heidi creates a stream");

    const snapshot = await a.cp.exportState();
    assert.equal(snapshot.format, 1, "format");
    assert.match(snapshot.engine_version, /^\d+\.\d+\.\d+/, "engine_version");
    assert.deepEqual(snapshot.services.map((x) => x.friendly_name), ["Renamed default", "Orders ü & co", "plain", "empty"], "services in creation order");
    const heidiStream = snapshot.services[0].streams.find((x) => x.sid === sdkMade.sid);
    assert.equal(heidiStream.created_by, "heidi", "created_by of an SDK-made stream in the snapshot");
    assert.ok(!snapshot.services[1].streams.some((x) => x.sid === doomed.sid), "a deleted stream in the snapshot");
    const totalStreams = snapshot.services.reduce((n, x) => n + x.streams.length, 0);
    assert.equal(totalStreams, 14, "streams in the snapshot");

    // The importing engine has a subscriber on a stream the import replaces.
    const b = await launch();
    const bDefault = await b.defaultSid();
    await b.streams(bDefault).create({ uniqueName: "replaced" });
    const bSubscriber = await subscriber(b, "ivan", bDefault, ["replaced"]);
    const imported = await b.cp.importState(snapshot);
    assert.deepEqual(imported, { services: 4, streams: totalStreams }, "PUT /_engine/state answer");
    const gone = await bSubscriber.subs.replaced.logs.removed.waitFor(() => true, STEP_MS, "after the import replaced its stream");
    assert.equal(gone.isLocal, false);
    await expectRestError(b.rest.sync.v1.services(bDefault).fetch(), 404, 20404, "the importing engine's old default service");

    assert.deepEqual(comparable(await b.cp.exportState()), comparable(snapshot), "the imported engine's own export");
    assert.equal(await b.defaultSid(), aDefault, "'default' on the importing engine");

    // The official client's view: every service and stream fetched, every field, lists in order.
    const aServices = await a.rest.sync.v1.services.list();
    const bServices = await b.rest.sync.v1.services.list();
    assert.deepEqual(bServices.map((x) => x.sid), aServices.map((x) => x.sid), "service list order");
    assert.deepEqual(bServices.map((x) => normalised(x, b.engine.base)), aServices.map((x) => normalised(x, a.engine.base)), "service lists");
    let fetched = 0;
    for (const service of aServices) {
      const [fromA, fromB] = await Promise.all([a.rest.sync.v1.services(service.sid).fetch(), b.rest.sync.v1.services(service.sid).fetch()]);
      assert.deepEqual(normalised(fromB, b.engine.base), normalised(fromA, a.engine.base), `service ${service.sid}`);
      const aStreams = await a.streams(service.sid).list({ pageSize: 2 });
      const bStreams = await b.streams(service.sid).list({ pageSize: 2 });
      assert.deepEqual(bStreams.map((x) => x.sid), aStreams.map((x) => x.sid), `stream list order in ${service.sid}`);
      assert.deepEqual(bStreams.map((x) => normalised(x, b.engine.base)), aStreams.map((x) => normalised(x, a.engine.base)), `stream lists in ${service.sid}`);
      for (const stream of aStreams) {
        const [sa, sb] = await Promise.all([a.streams(service.sid)(stream.sid).fetch(), b.streams(service.sid)(stream.sid).fetch()]);
        assert.deepEqual(normalised(sb, b.engine.base), normalised(sa, a.engine.base), `stream ${stream.sid}`);
        if (stream.uniqueName) {
          const byName = await b.streams(service.sid)(stream.uniqueName).fetch();
          assert.equal(byName.sid, stream.sid, `stream ${stream.uniqueName} by unique name`);
        }
        ++fetched;
      }
    }
    assert.equal(fetched, totalStreams, "streams fetched");
    // The imported state is live: publish to an imported stream, create next to it.
    await publish(b, aDefault, sdkMade.sid, { after: "import" });
    await expectRestError(b.streams(aDefault).create({ uniqueName: "made-by-heidi" }), 409, 54301, "an imported unique name is taken");
    t.diagnostic(`${aServices.length} services and ${fetched} streams fetched alike from both engines`);
  });

  it("kill -9 right after a PUT /_engine/state acknowledgement loses nothing", { timeout: TEST_MS }, async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "streams-interop-kill9-"));
    try {
      const now = Math.floor(Date.now() / 1000) * 1000;
      const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
      const sid = (prefix, n) => prefix + n.toString(16).padStart(12, "0") + randomHex(10);
      const snapshotFor = (round) => {
        const services = [];
        for (let i = 0; i < 3; i++) {
          const streams = [];
          for (let j = 0; j < 40; j++) {
            streams.push({
              sid: sid("TO", now + round * 1000 + i * 100 + j),
              unique_name: j % 4 === 3 ? null : `r${round}-s${i}-${j}`,
              account_sid: credentials.accountSid,
              created_by: j % 5 === 0 ? `user-${j}` : "system",
              date_created: iso(now - 60000 + j * 1000),
              date_updated: iso(now - 30000 + j * 1000),
              date_expires: j % 2 ? iso(now + 86400000 + j * 1000) : null,
            });
          }
          services.push({
            sid: sid("IS", now + round * 1000 + i),
            unique_name: i === 0 ? "default" : null,
            account_sid: credentials.accountSid,
            friendly_name: `round ${round} service ${i}`,
            webhook_url: i === 1 ? `https://example.com/r${round}` : null,
            reachability_webhooks_enabled: i === 1,
            acl_enabled: i === 2,
            reachability_debouncing_enabled: i === 1,
            reachability_debouncing_window: 5000 + i * 1000,
            webhooks_from_rest_enabled: i === 2,
            date_created: iso(now - 120000 + i * 1000),
            date_updated: iso(now - 90000 + i * 1000),
            streams,
          });
        }
        return { format: 1, services };
      };

      // Every engine here is stopped (or killed) by the test itself, before its data dir goes.
      let engine = await startEngine(ENGINE_BINARY, credentials, [], { dataDir });
      engines.push({ engine, expectDead: true });
      for (let round = 1; round <= 3; round++) {
        const snapshot = snapshotFor(round);
        const answer = await fetch(`${engine.base}/_engine/state`, {
          method: "PUT",
          headers: { Authorization: basic(credentials.accountSid, credentials.authToken), "Content-Type": "application/json" },
          body: JSON.stringify(snapshot),
        });
        const status = answer.status;
        await engine.kill9(); // at once: before reading the body
        assert.equal(status, 200, `round ${round}: PUT /_engine/state: ${await answer.text().catch(() => "")}`);

        engine = await startEngine(ENGINE_BINARY, credentials, [], { dataDir });
        engines.push({ engine, expectDead: true });
        const s = wire(engine);
        const after = comparable(await s.cp.exportState());
        delete after.engine_version;
        assert.deepEqual(after, snapshot, `round ${round}: the state after kill -9 and a restart`);
        const byName = await s.streams("default")(`r${round}-s0-1`).fetch();
        assert.equal(byName.sid, snapshot.services[0].streams[1].sid, `round ${round}: fetch by unique name after the restart`);
        t.diagnostic(`round ${round}: 3 services and 120 streams acknowledged, killed at once, all there after the restart`);
      }
      const alive = engine.alive();
      const status = await engine.stop();
      assert.ok(alive, `the restarted engine died: ${engine.stderr()}`);
      assert.equal(status.code, 0, `the restarted engine did not exit cleanly: ${JSON.stringify(status)}\n${engine.stderr()}`);
    } finally {
      for (const entry of engines) entry.engine.killNow(); // a given data dir is left alone
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("disconnect: true closes the SDK's connection; it reconnects and keeps receiving", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    for (const name of ["watched", "other"]) await s.streams(serviceSid).create({ uniqueName: name });
    const judy = await subscriber(s, "judy", serviceSid, ["watched"]);
    const ken = await subscriber(s, "ken", serviceSid, ["other"]);

    // Resolves once `who` lost its connection after `mark` states and got it back, subscription too.
    const reconnected = async (who, stream, marks, what) => {
      await who.peer.states.until(() => who.peer.states.events.slice(marks.states).some((x) => x !== "connected"), STEP_MS, `${what}: to lose the connection`);
      await who.peer.states.until(() => {
        const tail = who.peer.states.events.slice(marks.states);
        return tail.lastIndexOf("connected") > tail.findIndex((x) => x !== "connected");
      }, STEP_MS, `${what}: to connect again`);
      const sub = who.subs[stream];
      await sub.states.until(() => {
        const tail = sub.states.events.slice(marks.subscription);
        const reset = tail.indexOf("none");
        return reset >= 0 && tail.indexOf("established", reset) > reset;
      }, STEP_MS, `${what}: to subscribe again`);
    };
    const marksOf = (who, stream) => ({ states: who.peer.states.events.length, subscription: who.subs[stream].states.events.length });
    const receives = async (who, stream, label) => {
      const sids = [];
      for (let i = 0; i < 5; i++) sids.push((await publish(s, serviceSid, stream, { label, i })).sid);
      await who.subs[stream].logs.published.waitFor((e) => e.message.sid === sids[4], STEP_MS, `${label}: the last message`);
      const got = who.subs[stream].arrivals.map((a) => a.sid).filter((x) => sids.includes(x));
      assert.deepEqual(got, sids, `${label}: messages after reconnecting`);
    };

    // service "*" and stream "*": every live connection.
    const judyMarksAll = marksOf(judy, "watched");
    const kenMarksAll = marksOf(ken, "other");
    const everyone = await s.cp.addFault({ disconnect: true });
    await reconnected(judy, "watched", judyMarksAll, "judy (everyone)");
    await reconnected(ken, "other", kenMarksAll, "ken (everyone)");
    await receives(judy, "watched", "judy after everyone was disconnected");
    await receives(ken, "other", "ken after everyone was disconnected");
    await waitUntil(async () => (await s.cp.fault(everyone.id)).acted.disconnected === 2, STEP_MS, "acted.disconnected reaching 2");
    await s.cp.removeFault(everyone.id);
    t.diagnostic("disconnect on * / *: both reconnected and kept receiving");

    // One stream, named: only the connection subscribed to it.
    const judyMarks = marksOf(judy, "watched");
    const kenMarks = marksOf(ken, "other");
    const added = await s.cp.addFault({ stream: "watched", disconnect: true });
    assert.equal(added.disconnect, true);
    await reconnected(judy, "watched", judyMarks, "judy");
    await receives(judy, "watched", "judy after the disconnect");
    await waitUntil(async () => (await s.cp.fault(added.id)).acted.disconnected === 1, STEP_MS, "acted.disconnected reaching 1");
    // Ken has no subscription on the matched stream: his connection stayed up.
    assert.deepEqual(ken.peer.states.events.slice(kenMarks.states), [], "ken's connection states after the rule");
    await receives(ken, "other", "ken");
    assert.equal(judy.peer.states.events.slice(judyMarks.states).filter((x) => x === "connected").length, 1, "judy was disconnected again");
    t.diagnostic(`judy: ${judy.peer.states.events.join(" -> ")}; ken untouched`);
  });

  it("an invalid snapshot is 400 naming the field, and nothing changes", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const serviceSid = await s.defaultSid();
    await s.streams(serviceSid).create({ uniqueName: "kept", ttl: 600 });
    await s.rest.sync.v1.services.create({ friendlyName: "second" });
    const before = comparable(await s.cp.exportState());

    const ts = "TO" + randomHex(16);
    const service = (fields = {}) => ({ sid: "IS" + randomHex(16), ...fields });
    const stream = (fields = {}) => ({ sid: "TO" + randomHex(16), ...fields });
    const shared = "IS" + randomHex(16);
    const cases = [
      ["no format", { services: [] }, "format"],
      ["format 2", { format: 2, services: [] }, "format"],
      ["format a string", { format: "1", services: [] }, "format"],
      ["no services", { format: 1 }, "services"],
      ["services an object", { format: 1, services: {} }, "services"],
      ["a snapshot that is an array", [], /^Invalid (JSON|snapshot)/],
      ["a service that is no object", { format: 1, services: [5] }, "services[0]"],
      ["a service without sid", { format: 1, services: [{ friendly_name: "x" }] }, "services[0].sid"],
      ["a service SID of the wrong shape", { format: 1, services: [service(), { sid: "XX1" }] }, "services[1].sid"],
      ["a stream SID as service SID", { format: 1, services: [{ sid: ts }] }, "services[0].sid"],
      ["a duplicate service SID", { format: 1, services: [service({ sid: shared }), service({ sid: shared })] }, "services[1].sid"],
      ["a duplicate service unique name", { format: 1, services: [service({ unique_name: "a" }), service({ unique_name: "a" })] }, "services[1].unique_name"],
      ["streams no array", { format: 1, services: [service({ streams: {} })] }, "services[0].streams"],
      ["a stream without sid", { format: 1, services: [service({ streams: [stream(), {}] })] }, "services[0].streams[1].sid"],
      ["the spec's example", { format: 1, services: [service({ streams: [stream(), stream(), { sid: "XX1" }] })] }, /^Invalid snapshot: services\[0\]\.streams\[2\]\.sid\b.*"XX1" is not a stream SID/],
      ["a duplicate stream SID across services", { format: 1, services: [service({ streams: [stream({ sid: ts })] }), service({ streams: [stream({ sid: ts })] })] }, "services[1].streams[0].sid"],
      ["a duplicate stream unique name", { format: 1, services: [service({ streams: [stream({ unique_name: "x" }), stream({ unique_name: "x" })] })] }, "services[0].streams[1].unique_name"],
      ["an empty unique name", { format: 1, services: [service({ streams: [stream({ unique_name: "" })] })] }, "services[0].streams[0].unique_name"],
      ["a 321-character unique name", { format: 1, services: [service({ streams: [stream({ unique_name: "n".repeat(321) })] })] }, "services[0].streams[0].unique_name"],
      ["a SID-shaped unique name", { format: 1, services: [service({ streams: [stream({ unique_name: "TO" + randomHex(16) })] })] }, "services[0].streams[0].unique_name"],
      ["a unique name that is a number", { format: 1, services: [service({ streams: [stream({ unique_name: 7 })] })] }, "services[0].streams[0].unique_name"],
      ["a bad date_expires", { format: 1, services: [service(), service({ streams: [stream({ date_expires: "tomorrow" })] })] }, "services[1].streams[0].date_expires"],
      ["a date without its zone", { format: 1, services: [service({ streams: [stream({ date_created: "2026-12-06T08:00:00" })] })] }, "services[0].streams[0].date_created"],
      ["a date that is a number", { format: 1, services: [service({ date_updated: 1796550000 })] }, "services[0].date_updated"],
      ["a bad account SID", { format: 1, services: [service({ account_sid: "AC1" })] }, "services[0].account_sid"],
      ["a boolean that is a string", { format: 1, services: [service({ acl_enabled: "yes" })] }, "services[0].acl_enabled"],
      ["a window that is a string", { format: 1, services: [service({ reachability_debouncing_window: "x" })] }, "services[0].reachability_debouncing_window"],
      ["a friendly name that is no string", { format: 1, services: [service({ friendly_name: 5 })] }, "services[0].friendly_name"],
      ["created_by that is no string", { format: 1, services: [service({ streams: [stream({ created_by: {} })] })] }, "services[0].streams[0].created_by"],
    ];
    for (const [what, body, field] of cases) {
      const answer = await s.cp.request("PUT", "/_engine/state", body);
      assertTwilioError(answer, 400, 20400, what, field);
      if (typeof field === "string") assert.ok(answer.json.message.startsWith("Invalid snapshot"), `${what}: message ${JSON.stringify(answer.json.message)}`);
    }
    assertTwilioError(await s.cp.request("PUT", "/_engine/state", "{not json"), 400, 20400, "not JSON", /^Invalid JSON: .* at line 1, column \d+/);
    assert.deepEqual(comparable(await s.cp.exportState()), before, "the state after every refused snapshot");
    assert.equal((await s.streams(serviceSid)("kept").fetch()).uniqueName, "kept", "the stream is still there");
    t.diagnostic(`${cases.length + 1} invalid snapshots -> 400 / 20400 naming the field; state unchanged`);

    // The same stream unique name in two services is fine; so is a snapshot of defaults only.
    const minimal = { format: 1, services: [service({ streams: [stream({ unique_name: "x" })] }), service({ streams: [stream({ unique_name: "x" })] })] };
    assert.deepEqual(await s.cp.importState(minimal), { services: 2, streams: 2 });
    const filled = await s.cp.exportState();
    assert.equal(filled.services[0].account_sid, credentials.accountSid, "account_sid defaults to the engine's");
    assert.equal(filled.services[0].streams[0].created_by, "system", "created_by defaults to system");
    assert.equal(filled.services[0].streams[0].date_expires, null, "date_expires defaults to null");
    assert.equal(filled.services[0].reachability_debouncing_window, 5000, "a service's defaults as on create");
    assert.ok(Math.abs(Date.parse(filled.services[0].date_created) - Date.now()) < 5000, "dates default to now");
  });

  it("reset leaves only the default service; faults go, the clock and the traffic log stay", { timeout: TEST_MS }, async (t) => {
    const s = await launch();
    const oldDefault = await s.defaultSid();
    const original = await s.rest.sync.v1.services(oldDefault).fetch();
    await s.rest.sync.v1.services(oldDefault).update({ friendlyName: "changed", aclEnabled: true });
    const other = await s.rest.sync.v1.services.create({ friendlyName: "other" });
    const inDefault = await s.streams(oldDefault).create({ uniqueName: "old" });
    await s.streams(other.sid).create({ uniqueName: "old-too" });
    const { subs } = await subscriber(s, "leo", oldDefault, ["old"]);
    const rule = await s.cp.addFault({ drop: 0.5, seed: 1 });
    await s.cp.advance(100);
    const trafficBefore = await s.cp.traffic();
    assert.ok(trafficBefore.last_id > 0, "the traffic log recorded the REST requests");

    assert.deepEqual(await s.cp.reset(), { services: 1, streams: 0 }, "POST /_engine/reset answer");
    const services = await s.rest.sync.v1.services.list();
    assert.equal(services.length, 1, `services after reset: ${services.map((x) => x.friendlyName)}`);
    const [fresh] = services;
    assert.match(fresh.sid, SID.service);
    assert.notEqual(fresh.sid, oldDefault, "the default service has a new SID");
    assert.equal(fresh.uniqueName, "default");
    for (const key of ["friendlyName", "webhookUrl", "reachabilityWebhooksEnabled", "aclEnabled", "reachabilityDebouncingEnabled", "reachabilityDebouncingWindow", "webhooksFromRestEnabled"]) {
      assert.deepEqual(fresh[key], original[key], `the new default service's ${key}`);
    }
    assert.deepEqual(await s.streams(fresh.sid).list(), [], "streams after reset");
    await expectRestError(s.rest.sync.v1.services(other.sid).fetch(), 404, 20404, "another service after reset");
    await expectRestError(s.streams(oldDefault)(inDefault.sid).fetch(), 404, 20404, "an old stream after reset");
    const removed = await subs.old.logs.removed.waitFor(() => true, STEP_MS, "after the reset");
    assert.equal(removed.isLocal, false);

    assert.deepEqual(await s.cp.faults(), [], "fault rules after reset");
    assert.ok((await s.cp.clock()).offset_seconds >= 100, "the clock went back on reset");
    const health = await s.cp.health();
    assert.deepEqual([health.services, health.streams], [1, 0], "health after reset");
    const trafficAfter = await s.cp.traffic(`after=${trafficBefore.last_id - 3}&limit=1000`);
    assert.ok(trafficAfter.last_id >= trafficBefore.last_id, "the traffic log's ids went back");
    assert.deepEqual(trafficAfter.entries.slice(0, 3).map((e) => e.id), trafficBefore.entries.slice(-3).map((e) => e.id), "traffic before the reset is kept");
    assert.ok(!trafficAfter.entries.some((e) => e.path.startsWith("/_engine")), "control-plane requests in the traffic log");

    // Fault ids are never reused in a run; the clock keeps its offset for what is written next.
    const next = await s.cp.addFault({ drop: 0.1 });
    assert.ok(Number(next.id.split("-")[1]) > Number(rule.id.split("-")[1]), `a fault id was reused: ${rule.id} then ${next.id}`);
    const made = await s.streams(fresh.sid).create({ uniqueName: "new" });
    assert.ok(made.dateCreated.getTime() - Date.now() > 95000, "dates after reset ignore the clock's offset");
    t.diagnostic(`reset: default ${oldDefault} -> ${fresh.sid}; faults cleared; clock +100 s kept`);
  });
});
