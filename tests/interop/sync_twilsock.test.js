// Interop: Twilio's official npm `twilio-sync` client SDK talks twilsock to a real streams-engine
// process, pointed at it only by the two documented options (`twilsock.uri` and `cdsUri`). Tokens
// come from npm `twilio`'s AccessToken + SyncGrant, signed with the engine's API key.
//
// Run: node tests/interop/sync_twilsock.test.js <path-to-streams-engine>
// Needs: npm ci --prefix tests/interop
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { describe, it, before, after } = require("node:test");
const { loopbackEnvironment, makeCredentials, startEngine } = require("../support/engineprocess.js");
const sdk = require("./sync_sdk");
const { STEP_MS, SYNC_VERSION, TWILSOCK_VERSION, twilio, within, connected, established, streamLogs, expectSyncError } = sdk;

const ENGINE_BINARY = process.argv[2];

loopbackEnvironment(process.env);

const SID = {
  stream: /^TO[0-9a-f]{32}$/,
  message: /^TZ[0-9a-f]{32}$/,
};
const TEST_MS = 30000;
const randomHex = (bytes) => crypto.randomBytes(bytes).toString("hex");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A stuck SDK timer or socket must not keep the process alive until ctest's timeout.
const watchdog = setTimeout(() => {
  console.error("sync_twilsock.test.js: still running after 150 s, giving up");
  process.exit(1);
}, 150000);
watchdog.unref();

const credentials = makeCredentials();
let engine;
let limitedEngine; // --publish-rate 1, for the 429 test
let rest; // npm twilio REST client on the engine
let serviceSid; // the engine's default service: the tokens' grant
const clients = []; // every SyncClient made, shut down in after()

function mintToken(options) {
  return sdk.mintToken(credentials, { grantServiceSid: serviceSid, ...options });
}

/** A SyncClient on an engine, with logs of its connection events recorded from the start. */
function syncClient(name, token, target = engine) {
  return sdk.syncClient(name, token, target, clients);
}

function restStreams() {
  return rest.sync.v1.services(serviceSid).syncStreams;
}

async function shutdownAll() {
  return sdk.shutdownAll(clients);
}

const killEngines = () => {
  for (const e of [engine, limitedEngine]) if (e) e.killNow();
};
process.on("exit", killEngines);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killEngines();
    process.exit(1);
  });
}

describe(`npm twilio-sync ${SYNC_VERSION} (twilsock ${TWILSOCK_VERSION}) against streams-engine`, () => {
  let alice;
  let bob;
  let aliceStream;
  let bobStream;
  let aliceLogs;
  let bobLogs;
  let bobMessageSid;
  const uniqueName = "demo";

  before(async () => {
    engine = await startEngine(ENGINE_BINARY, credentials);
    rest = twilio(credentials.accountSid, credentials.authToken);
    rest.sync.baseUrl = engine.base;
    const service = await rest.sync.v1.services("default").fetch();
    serviceSid = service.sid;
  });

  after(async () => {
    const shutdownErrors = (await shutdownAll()).filter((r) => r instanceof Error);
    assert.ok(engine, "streams-engine never started");
    const stopped = [];
    for (const e of [engine, limitedEngine]) {
      if (!e) continue;
      const wasAlive = e.alive();
      stopped.push({ wasAlive, status: await e.stop(), stderr: e.stderr() });
    }
    engine = limitedEngine = undefined;
    for (const { wasAlive, status, stderr } of stopped) {
      assert.ok(wasAlive, `streams-engine died during the test: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
      assert.equal(status.code, 0, `streams-engine did not exit cleanly on SIGTERM: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
    }
    assert.deepEqual(shutdownErrors.map((e) => e.message), [], "SyncClient.shutdown() failed");
  });

  it("1. two SDK clients (alice, bob) connect", { timeout: TEST_MS }, async (t) => {
    alice = syncClient("alice", mintToken({ identity: "alice" }));
    bob = syncClient("bob", mintToken({ identity: "bob" }));
    await connected(alice);
    await connected(bob);
    for (const peer of [alice, bob]) {
      assert.ok(peer.states.count((s) => s === "denied") === 0, `${peer.name} was denied`);
      t.diagnostic(`${peer.name} states: ${peer.states.events.join(" -> ")}`);
    }
  });

  it("2. alice creates a stream by unique name; bob opens it by SID and by unique name", { timeout: TEST_MS }, async (t) => {
    assert.ok(alice && bob, "precondition: test 1 made the clients");
    aliceStream = await within(alice.client.stream({ id: uniqueName, mode: "create_new" }), STEP_MS, "alice create_new");
    aliceLogs = streamLogs(aliceStream, "alice");
    assert.match(aliceStream.sid, SID.stream, "created stream sid");
    assert.equal(aliceStream.uniqueName, uniqueName, "created stream unique name");
    t.diagnostic(`alice created ${uniqueName} = ${aliceStream.sid}`);

    // The engine's one store: REST sees the stream the SDK made, created by the token's identity.
    const viaRest = await restStreams()(aliceStream.sid).fetch();
    assert.equal(viaRest.uniqueName, uniqueName, "REST unique_name of the SDK-created stream");
    assert.equal(viaRest.serviceSid, serviceSid, "REST service_sid of the SDK-created stream");
    assert.equal(viaRest.createdBy, "alice", "REST created_by of a stream created over twilsock");

    // create_new on a taken name is a 409 the SDK surfaces (open_or_create would fall back to open).
    await expectSyncError(bob.client.stream({ id: uniqueName, mode: "create_new" }), 409, 54301, "bob create_new on a taken name");

    // By SID first (the SDK caches opened streams by SID and name, so close before reopening by name).
    const bySid = await within(bob.client.stream({ id: aliceStream.sid, mode: "open_existing" }), STEP_MS, "bob open by SID");
    assert.equal(bySid.sid, aliceStream.sid, "opened by SID: sid");
    assert.equal(bySid.uniqueName, uniqueName, "opened by SID: unique name");
    bySid.close();

    bobStream = await within(bob.client.stream({ id: uniqueName, mode: "open_existing" }), STEP_MS, "bob open by name");
    bobLogs = streamLogs(bobStream, "bob");
    assert.equal(bobStream.sid, aliceStream.sid, "opened by unique name: sid");
    assert.equal(bobStream.uniqueName, uniqueName, "opened by unique name: unique name");
    t.diagnostic(`bob opened ${aliceStream.sid} by SID and by unique name`);

    // With no id the SDK creates a stream without a unique name.
    const anonymous = await within(alice.client.stream(), STEP_MS, "alice create anonymous");
    assert.match(anonymous.sid, SID.stream, "anonymous stream sid");
    assert.notEqual(anonymous.sid, aliceStream.sid);
    assert.equal(anonymous.uniqueName, null, "anonymous stream unique name");
    assert.equal((await restStreams()(anonymous.sid).fetch()).uniqueName, null, "REST unique_name of the anonymous stream");
    anonymous.close();
  });

  it("3. both subscribe; bob publishes, alice receives it with isLocal false", { timeout: TEST_MS }, async (t) => {
    assert.ok(aliceStream && bobStream, "precondition: test 2 opened the streams");
    await established(aliceStream, "alice");
    await established(bobStream, "bob");
    t.diagnostic("both subscriptions established");

    const data = { text: "hello from bob", n: 1, nested: { "ü": "日本語 😀", list: [1, null, true, 2.5, "two"] }, empty: {} };
    const published = await within(bobStream.publishMessage(data), STEP_MS, "bob publishMessage");
    bobMessageSid = published.sid;
    assert.match(published.sid, SID.message, "publishMessage sid");
    assert.deepEqual(published.data, data);

    const got = await aliceLogs.published.waitFor((e) => e.message.sid === published.sid, STEP_MS, "bob's message");
    assert.equal(got.isLocal, false, "alice: isLocal of bob's message");
    assert.deepEqual(got.message.data, data, "alice: message data");
    assert.equal(JSON.stringify(got.message.data), JSON.stringify(data), "alice: key order kept");
    t.diagnostic(`alice got ${published.sid} isLocal=false with the exact data`);

    // The SDK echoes a successful publish locally before publishMessage resolves.
    const local = bobLogs.published.events.filter((e) => e.message.sid === published.sid && e.isLocal);
    assert.equal(local.length, 1, "bob: exactly one local echo of his own message");
    assert.deepEqual(local[0].message.data, data);
  });

  it("4. a REST publish reaches both SDK clients with the REST reply's SID, in order", { timeout: TEST_MS }, async (t) => {
    assert.ok(aliceLogs && bobLogs, "precondition: tests 2-3");
    const data = { from: "rest", at: Date.now(), text: "ü & = + % ? # /" };
    const message = await restStreams()(aliceStream.sid).streamMessages.create({ data });
    assert.match(message.sid, SID.message, "REST message sid");
    for (const [name, logs] of [["alice", aliceLogs], ["bob", bobLogs]]) {
      const got = await logs.published.waitFor((e) => e.message.sid === message.sid, STEP_MS, "the REST message");
      assert.equal(got.isLocal, false, `${name}: isLocal of a REST message`);
      assert.deepEqual(got.message.data, data, `${name}: REST message data`);
    }
    t.diagnostic(`REST ${message.sid} reached alice and bob`);

    // Bob's own publish must not come back to him: the SDK already reported it locally and does
    // not de-duplicate, so an echo would show twice. Settled now, because the REST message was
    // published after it and deliveries to one connection keep their order.
    const echoes = bobLogs.published.count((e) => e.message.sid === bobMessageSid && !e.isLocal);
    assert.equal(echoes, 0, `the engine echoed bob's own message back to him ${echoes} time(s)`);
    t.diagnostic("bob's own message was not echoed back to him");

    // A burst keeps publish order on every subscriber, with no loss and no duplicates.
    const sids = [];
    for (let i = 0; i < 20; i++) {
      sids.push((await restStreams()(aliceStream.sid).streamMessages.create({ data: { seq: i } })).sid);
    }
    for (const [name, logs] of [["alice", aliceLogs], ["bob", bobLogs]]) {
      await logs.published.waitFor((e) => e.message.sid === sids[sids.length - 1], STEP_MS, "the last burst message");
      const seen = logs.published.events.filter((e) => sids.includes(e.message.sid));
      assert.deepEqual(seen.map((e) => e.message.sid), sids, `${name}: burst order / loss / duplicates`);
      assert.deepEqual(seen.map((e) => e.message.data.seq), [...sids.keys()], `${name}: burst data`);
    }
    t.diagnostic("a 20-message REST burst arrived complete and in order at both");
  });

  it("5. open_existing on a missing stream rejects with SyncError 404", { timeout: TEST_MS }, async (t) => {
    assert.ok(alice, "precondition: test 1");
    // 20404, as over REST.
    await expectSyncError(
      alice.client.stream({ id: "no-such-stream-" + randomHex(4), mode: "open_existing" }),
      404,
      20404,
      "open_existing missing name",
    );
    await expectSyncError(alice.client.stream({ id: "TO" + randomHex(16), mode: "open_existing" }), 404, 20404, "open_existing missing SID");
    t.diagnostic("missing stream (by name and by SID) -> SyncError 404 / 20404");
  });

  it("6. an oversized publish rejects with SyncError 413 / 54006; 4096 bytes fit", { timeout: TEST_MS }, async (t) => {
    assert.ok(aliceLogs && bobStream, "precondition: tests 2-3");
    const before = aliceLogs.published.events.length;
    // {"s":"…"} is 8 bytes plus the string: 4089 x gives 4097 bytes of compact JSON.
    await expectSyncError(bobStream.publishMessage({ s: "x".repeat(4089) }), 413, 54006, "4097-byte publish");
    await expectSyncError(bobStream.publishMessage({ s: "ü".repeat(2045) }), 413, 54006, "4098 bytes of UTF-8");
    t.diagnostic("4097 and 4098 bytes -> SyncError 413 / 54006");
    const fits = await within(bobStream.publishMessage({ s: "x".repeat(4088) }), STEP_MS, "4096-byte publish");
    assert.match(fits.sid, SID.message);
    const got = await aliceLogs.published.waitFor((e) => e.message.sid === fits.sid, STEP_MS, "the 4096-byte message");
    assert.equal(got.message.data.s.length, 4088);
    // The refused ones were never delivered: the accepted one is the only new arrival.
    const arrived = aliceLogs.published.events.slice(before).map((e) => e.message.sid);
    assert.deepEqual(arrived, [fits.sid], "alice received only the accepted message");
    t.diagnostic("4096 bytes accepted and delivered; refused publishes were not delivered");
  });

  it("7. the SDK's setTtl and removeStream reach the engine", { timeout: TEST_MS }, async (t) => {
    assert.ok(alice && bob, "precondition: test 1");
    const mine = await within(bob.client.stream({ id: "sdk-removed", mode: "create_new", ttl: 600 }), STEP_MS, "bob create with ttl");
    const created = await restStreams()(mine.sid).fetch();
    assert.ok(created.dateExpires instanceof Date, `ttl 600 gives date_expires, got ${created.dateExpires}`);
    assert.equal(created.dateExpires.getTime() - created.dateCreated.getTime(), 600 * 1000, "date_expires - date_created");
    assert.equal(created.createdBy, "bob");

    await within(mine.setTtl(3600), STEP_MS, "setTtl(3600)");
    const extended = await restStreams()(mine.sid).fetch();
    const left = extended.dateExpires.getTime() - Date.now();
    assert.ok(left > 3500 * 1000 && left <= 3601 * 1000, `setTtl(3600) left ${left} ms`);
    t.diagnostic("create_new ttl 600 and setTtl(3600) show in REST date_expires");

    const watcher = await within(alice.client.stream({ id: mine.sid, mode: "open_existing" }), STEP_MS, "alice open bob's stream");
    const watcherLogs = streamLogs(watcher, "alice");
    const mineLogs = streamLogs(mine, "bob");
    await established(watcher, "alice on bob's stream");
    await within(mine.removeStream(), STEP_MS, "removeStream()");
    const local = await mineLogs.removed.waitFor(() => true, STEP_MS);
    assert.equal(local.isLocal, true, "bob: removed isLocal after his own removeStream");
    const remote = await watcherLogs.removed.waitFor(() => true, STEP_MS, "after bob's removeStream");
    assert.equal(remote.isLocal, false, "alice: removed isLocal");
    await assert.rejects(restStreams()(mine.sid).fetch(), (e) => e.status === 404, "REST still finds the removed stream");
    t.diagnostic("removeStream: bob removed isLocal=true, alice removed isLocal=false, REST 404");
  });

  it("8. a REST delete makes the SDK streams emit 'removed'", { timeout: TEST_MS }, async (t) => {
    assert.ok(aliceLogs && bobLogs, "precondition: tests 2-3");
    assert.equal(await restStreams()(aliceStream.sid).remove(), true, "REST delete");
    for (const [name, logs] of [["alice", aliceLogs], ["bob", bobLogs]]) {
      const removed = await logs.removed.waitFor(() => true, STEP_MS, "after the REST delete");
      assert.equal(removed.isLocal, false, `${name}: removed isLocal`);
      assert.equal(logs.removed.count(), 1, `${name}: one 'removed' event`);
    }
    t.diagnostic("REST delete -> 'removed' (isLocal false) on alice and bob");
    // The name is gone for the SDK too (its cache dropped the stream on 'removed').
    await expectSyncError(alice.client.stream({ id: uniqueName, mode: "open_existing" }), 404, undefined, "open the deleted stream");
  });

  it("9. a stream that expires (ttl) makes the SDK stream emit 'removed'", { timeout: TEST_MS }, async (t) => {
    assert.ok(alice, "precondition: test 1");
    // ttl 2, not 1: expiry falls on a whole second after date_created, so a 1 s stream can be gone
    // within milliseconds, before the SDK's subscription reaches the engine.
    const shortLived = await within(alice.client.stream({ id: "short-lived", mode: "create_new", ttl: 2 }), STEP_MS, "create ttl 2");
    const logs = streamLogs(shortLived, "alice");
    const removed = await logs.removed.waitFor(() => true, STEP_MS, "after the stream's ttl");
    assert.equal(removed.isLocal, false, "removed isLocal on expiry");
    await assert.rejects(restStreams()(shortLived.sid).fetch(), (e) => e.status === 404, "REST still finds the expired stream");
    t.diagnostic("ttl 2 s -> 'removed' (isLocal false), REST 404");
  });

  describe("10. tokens the engine must refuse reach the SDK's 'denied' state with 401", () => {
    const cases = [
      { what: "signed with the wrong secret", token: () => mintToken({ identity: "mallory", secret: randomHex(16) }) },
      { what: "from an unknown API key", token: () => mintToken({ identity: "mallory", keySid: "SK" + randomHex(16) }) },
      { what: "for another account", token: () => mintToken({ identity: "mallory", accountSid: "AC" + randomHex(16) }) },
      { what: "without a data_sync grant", token: () => mintToken({ identity: "mallory", grant: false }) },
      { what: "that is not a JWT", token: () => "not-a-jwt." + randomHex(8) },
    ];
    for (const { what, token } of cases) {
      it(`a token ${what}: denied, connectionError terminal 401 / 20101`, { timeout: TEST_MS }, async (t) => {
        const mallory = syncClient("mallory", token());
        await mallory.states.waitFor((s) => s === "denied", STEP_MS, "to reach 'denied'");
        const error = await mallory.errors.waitFor((e) => e.terminal, STEP_MS, "terminal error");
        assert.equal(error.httpStatusCode, 401, `httpStatusCode (${error.message})`);
        assert.equal(error.errorCode, 20101, `errorCode (${error.message})`);
        assert.equal(mallory.states.count((s) => s === "connected"), 0, "mallory was connected");
        assert.equal(mallory.expired.count(), 0, "an invalid token is not an expired one");
        t.diagnostic(`denied; connectionError ${JSON.stringify({ terminal: error.terminal, httpStatusCode: error.httpStatusCode, errorCode: error.errorCode })}`);
      });
    }

    it("a denied client recovers with updateToken(valid token)", { timeout: TEST_MS }, async (t) => {
      const carol = syncClient("carol", mintToken({ identity: "carol", secret: randomHex(16) }));
      await carol.states.waitFor((s) => s === "denied", STEP_MS, "to reach 'denied'");
      await within(carol.client.updateToken(mintToken({ identity: "carol" })), STEP_MS, "updateToken after denied");
      await carol.states.waitFor((s) => s === "connected", STEP_MS, "to reach 'connected' after updateToken");
      const stream = await within(carol.client.stream(), STEP_MS, "create a stream after recovering");
      assert.match(stream.sid, SID.stream);
      t.diagnostic("denied -> updateToken -> connected, and the connection works");
    });
  });

  describe("11. token expiry", () => {
    it("an expired token: tokenExpired, denied, connectionError 401 / 20104", { timeout: TEST_MS }, async (t) => {
      const late = syncClient("late", mintToken({ identity: "late", ttl: -60 }));
      await late.expired.waitFor(() => true, STEP_MS, "for an expired token");
      await late.states.waitFor((s) => s === "denied", STEP_MS, "to reach 'denied'");
      const error = await late.errors.waitFor((e) => e.terminal, STEP_MS, "terminal error");
      assert.equal(error.httpStatusCode, 401, `httpStatusCode (${error.message})`);
      assert.equal(error.errorCode, 20104, `errorCode (${error.message})`);
      assert.equal(late.states.count((s) => s === "connected"), 0, "connected with an expired token");
      t.diagnostic("expired token -> tokenExpired + denied, connectionError 401 / 20104");
    });

    it("a token about to expire: tokenAboutToExpire; updateToken keeps the connection and its subscriptions", { timeout: TEST_MS }, async (t) => {
      // 5 s is inside any "a few minutes before expiry" window, so the engine warns right after init.
      const ttl = 5;
      const minted = Date.now();
      const dave = syncClient("dave", mintToken({ identity: "dave", ttl }));
      await connected(dave);
      await dave.aboutToExpire.waitFor(() => true, STEP_MS, "for a 5 s token");
      t.diagnostic(`tokenAboutToExpire after ${Date.now() - minted} ms`);
      const stream = await within(dave.client.stream({ id: "refresh", mode: "create_new" }), STEP_MS, "dave create");
      const logs = streamLogs(stream, "dave");
      await established(stream, "dave");
      await within(dave.client.updateToken(mintToken({ identity: "dave" })), STEP_MS, "updateToken");
      // Past the old token's expiry the connection must still be up: the engine took the new exp.
      await sleep(Math.max(0, minted + (ttl + 2) * 1000 - Date.now()));
      assert.equal(dave.expired.count(), 0, "tokenExpired after a successful updateToken");
      assert.equal(dave.client.connectionState, "connected", "state after the old token's expiry");
      assert.deepEqual(dave.states.events.filter((s) => s !== "connected" && s !== "connecting"), [], "dave's state changes");
      const message = await restStreams()(stream.sid).streamMessages.create({ data: { after: "refresh" } });
      const got = await logs.published.waitFor((e) => e.message.sid === message.sid, STEP_MS, "a REST message after the refresh");
      assert.equal(got.isLocal, false);
      t.diagnostic("updateToken accepted; still connected and subscribed past the old expiry");
    });

    it("a token that expires while connected: tokenExpired (close 410); updateToken reconnects", { timeout: TEST_MS }, async (t) => {
      const erin = syncClient("erin", mintToken({ identity: "erin", ttl: 3 }));
      await connected(erin);
      await erin.expired.waitFor(() => true, STEP_MS, "while connected with a 3 s token");
      await erin.states.waitFor((s) => s === "disconnected", STEP_MS, "to close after expiry");
      assert.ok(erin.aboutToExpire.count() >= 1, "tokenAboutToExpire came before tokenExpired");
      assert.ok(erin.aboutToExpire.events[0].at <= erin.expired.events[0].at, "tokenAboutToExpire before tokenExpired");
      t.diagnostic(`states: ${erin.states.events.join(" -> ")}`);

      await within(erin.client.updateToken(mintToken({ identity: "erin" })), STEP_MS, "updateToken after expiry");
      await erin.states.until(() => erin.states.count((s) => s === "connected") >= 2, STEP_MS, "to connect again");
      const stream = await within(erin.client.stream({ id: "after-expiry", mode: "create_new" }), STEP_MS, "erin create");
      const logs = streamLogs(stream, "erin");
      await established(stream, "erin");
      const message = await restStreams()(stream.sid).streamMessages.create({ data: { back: true } });
      await logs.published.waitFor((e) => e.message.sid === message.sid, STEP_MS, "a REST message after reconnecting");
      t.diagnostic("expired -> updateToken -> connected, subscribed and receiving");
    });
  });
  it("12. publishing beyond the rate limit rejects with SyncError 429 / 54009 (engine with --publish-rate 1)", { timeout: TEST_MS }, async (t) => {
    limitedEngine = await startEngine(ENGINE_BINARY, credentials, ["--publish-rate", "1"]);
    const limitedRest = twilio(credentials.accountSid, credentials.authToken);
    limitedRest.sync.baseUrl = limitedEngine.base;
    const limitedService = (await limitedRest.sync.v1.services("default").fetch()).sid;
    const frank = syncClient("frank", mintToken({ identity: "frank", grantServiceSid: limitedService }), limitedEngine);
    await connected(frank);
    const stream = await within(frank.client.stream({ id: "burst", mode: "create_new" }), STEP_MS, "frank create");
    // The SDK does not retry a throttled POST, so the engine's 429 reaches the caller as is.
    let refusal;
    for (let i = 1; i <= 30 && !refusal; i++) {
      try {
        await within(stream.publishMessage({ i }), STEP_MS, `publish ${i}`);
      } catch (error) {
        refusal = { at: i, error };
      }
    }
    assert.ok(refusal, "30 publishes in a row were all accepted with --publish-rate 1");
    assert.equal(refusal.error.name, "SyncError", `publish ${refusal.at}: ${refusal.error.message}`);
    assert.equal(refusal.error.status, 429, `publish ${refusal.at}: status (${refusal.error.message})`);
    assert.equal(refusal.error.code, 54009, `publish ${refusal.at}: code (${refusal.error.message})`);
    assert.ok(refusal.at >= 10 && refusal.at <= 12, `429 came at publish ${refusal.at}; expected after the 10-message burst`);
    t.diagnostic(`publish ${refusal.at} -> SyncError 429 / 54009`);
  });
});
