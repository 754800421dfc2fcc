// Interop: Twilio's official npm `twilio` helper library drives a real streams-engine process
// through a full Sync Streams lifecycle (services, streams, messages, every contract error code).
//
// Run: node tests/interop/sync_lifecycle.test.js <path-to-streams-engine>
// Needs: npm ci --prefix tests/interop
"use strict";

let twilio;
try {
  twilio = require("twilio");
} catch (error) {
  console.error("npm twilio is not installed: run npm ci --prefix tests/interop");
  console.error(`(require('twilio') failed: ${error.message})`);
  process.exit(1);
}

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { describe, it, before, after } = require("node:test");
const { loopbackEnvironment, makeCredentials, startEngine } = require("../support/engineprocess.js");

const ENGINE_BINARY = process.argv[2];
const TWILIO_VERSION = require("twilio/package.json").version;

// The client must reach the engine directly: no edge/region host rewriting, no proxy.
loopbackEnvironment(process.env);

const SID = {
  service: /^IS[0-9a-f]{32}$/,
  stream: /^TO[0-9a-f]{32}$/,
  message: /^TZ[0-9a-f]{32}$/,
  account: /^AC[0-9a-f]{32}$/,
};
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const randomHex = (bytes) => crypto.randomBytes(bytes).toString("hex");
const missingStreamSid = () => "TO" + randomHex(16);
const missingServiceSid = () => "IS" + randomHex(16);

const credentials = makeCredentials();
let engine; // default publish rate
let limitedEngine; // --publish-rate 1
let client;

function clientFor(base, username, password, options) {
  const c = twilio(username, password, options);
  c.sync.baseUrl = base;
  return c;
}

/** Awaits `promise`, which must reject with a RestException carrying `status` and `code`. */
async function expectRestError(promise, status, code, what) {
  let error;
  try {
    const value = await promise;
    assert.fail(`${what}: expected HTTP ${status} / code ${code}, but it succeeded with ${JSON.stringify(value)}`);
  } catch (caught) {
    if (caught instanceof assert.AssertionError) throw caught;
    error = caught;
  }
  assert.ok(
    error instanceof twilio.RestException,
    `${what}: expected a RestException, got ${error && error.constructor && error.constructor.name}: ${error && error.message}`,
  );
  assert.equal(error.status, status, `${what}: HTTP status (message: ${error.message})`);
  assert.equal(error.code, code, `${what}: Twilio error code (message: ${error.message})`);
  assert.equal(error.moreInfo, `https://www.twilio.com/docs/errors/${code}`, `${what}: more_info`);
  assert.equal(typeof error.message, "string", `${what}: message`);
  assert.ok(error.message.length > 0, `${what}: message is empty`);
  return error;
}

/** GET through the client's own transport and return the raw JSON body (to check exact strings). */
async function rawGet(c, url) {
  const response = await c.request({ method: "get", uri: url });
  assert.equal(response.statusCode, 200, `raw GET ${url}`);
  return typeof response.body === "string" ? JSON.parse(response.body) : response.body;
}

function assertStreamShape(stream, serviceSid, what) {
  assert.match(stream.sid, SID.stream, `${what}: sid`);
  assert.equal(stream.accountSid, credentials.accountSid, `${what}: account_sid`);
  assert.equal(stream.serviceSid, serviceSid, `${what}: service_sid`);
  assert.equal(stream.url, `${engine.base}/v1/Services/${serviceSid}/Streams/${stream.sid}`, `${what}: url`);
  assert.deepEqual(stream.links, { messages: `${stream.url}/Messages` }, `${what}: links`);
  assert.equal(stream.createdBy, "system", `${what}: created_by`);
  assert.ok(stream.dateCreated instanceof Date, `${what}: date_created is not a date: ${stream.dateCreated}`);
  assert.ok(stream.dateUpdated instanceof Date, `${what}: date_updated is not a date: ${stream.dateUpdated}`);
}

function assertServiceShape(service, what) {
  assert.match(service.sid, SID.service, `${what}: sid`);
  assert.equal(service.accountSid, credentials.accountSid, `${what}: account_sid`);
  const url = `${engine.base}/v1/Services/${service.sid}`;
  assert.equal(service.url, url, `${what}: url`);
  assert.deepEqual(
    service.links,
    { documents: `${url}/Documents`, lists: `${url}/Lists`, maps: `${url}/Maps`, streams: `${url}/Streams` },
    `${what}: links`,
  );
  assert.ok(service.dateCreated instanceof Date, `${what}: date_created is not a date: ${service.dateCreated}`);
  assert.ok(service.dateUpdated instanceof Date, `${what}: date_updated is not a date: ${service.dateUpdated}`);
}

async function listAllPages(firstPagePromise) {
  const pages = [];
  let page = await firstPagePromise;
  while (page) {
    pages.push(page);
    page = await page.nextPage();
  }
  return pages;
}

const stopAll = () => {
  for (const e of [engine, limitedEngine]) if (e) e.killNow();
};
process.on("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll();
    process.exit(1);
  });
}

describe(`npm twilio ${TWILIO_VERSION} against streams-engine`, () => {
  before(async () => {
    engine = await startEngine(ENGINE_BINARY, credentials);
    client = clientFor(engine.base, credentials.accountSid, credentials.authToken);
  });

  after(async () => {
    const stopped = [];
    for (const e of [engine, limitedEngine]) {
      if (!e) continue;
      const wasAlive = e.alive();
      const status = await e.stop();
      stopped.push({ wasAlive, status, stderr: e.stderr() });
    }
    engine = limitedEngine = undefined;
    for (const { wasAlive, status, stderr } of stopped) {
      assert.ok(wasAlive, `streams-engine died during the test: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
      assert.equal(status.code, 0, `streams-engine did not exit cleanly on SIGTERM: ${JSON.stringify(status)}\nstderr:\n${stderr}`);
    }
  });

  describe("services", () => {
    it("the default service exists and is addressable as `default`", async () => {
      const byAlias = await client.sync.v1.services("default").fetch();
      assertServiceShape(byAlias, "default service");
      assert.equal(byAlias.uniqueName, "default");
      const bySid = await client.sync.v1.services(byAlias.sid).fetch();
      assert.equal(bySid.sid, byAlias.sid);
      assert.equal(bySid.uniqueName, "default");
      const listed = await client.sync.v1.services.list();
      assert.ok(listed.some((s) => s.sid === byAlias.sid), "the default service is not listed");
      // Streams are reachable through the alias too.
      const stream = await client.sync.v1.services("default").syncStreams.create({});
      assert.equal(stream.serviceSid, byAlias.sid);
      const again = await client.sync.v1.services(byAlias.sid).syncStreams(stream.sid).fetch();
      assert.equal(again.sid, stream.sid);
      assert.equal(await client.sync.v1.services("default").syncStreams(stream.sid).remove(), true);
    });

    it("create stores and echoes every documented field; fetch, list, update, delete", async () => {
      const fields = {
        friendlyName: "Interop ü service & co",
        webhookUrl: "https://example.com/sync-hook?x=1",
        reachabilityWebhooksEnabled: true,
        aclEnabled: true,
        reachabilityDebouncingEnabled: true,
        reachabilityDebouncingWindow: 12000,
        webhooksFromRestEnabled: true,
      };
      const created = await client.sync.v1.services.create(fields);
      assertServiceShape(created, "created service");
      assert.equal(created.uniqueName, null, "unique_name is read-only and should be null");
      for (const [key, value] of Object.entries(fields)) assert.equal(created[key], value, `created.${key}`);
      assert.equal(created.dateCreated.getTime(), created.dateUpdated.getTime());

      const raw = await rawGet(client, created.url);
      assert.match(raw.date_created, DATE, "raw date_created format");
      assert.match(raw.date_updated, DATE, "raw date_updated format");
      assert.equal(raw.friendly_name, fields.friendlyName);
      assert.equal(raw.reachability_debouncing_window, 12000);

      const fetched = await client.sync.v1.services(created.sid).fetch();
      for (const [key, value] of Object.entries(fields)) assert.equal(fetched[key], value, `fetched.${key}`);

      // Defaults for a service created with nothing but a name.
      const plain = await client.sync.v1.services.create({ friendlyName: "plain" });
      assertServiceShape(plain, "plain service");
      assert.equal(plain.friendlyName, "plain");
      assert.equal(plain.webhookUrl, null);
      assert.equal(plain.reachabilityWebhooksEnabled, false);
      assert.equal(plain.aclEnabled, false);
      assert.equal(plain.reachabilityDebouncingEnabled, false);
      assert.equal(plain.reachabilityDebouncingWindow, 5000);
      assert.equal(plain.webhooksFromRestEnabled, false);

      // List, following the client's own paging with one service per page.
      const listed = await client.sync.v1.services.list({ pageSize: 1 });
      const listedSids = listed.map((s) => s.sid);
      assert.equal(new Set(listedSids).size, listedSids.length, `duplicate services in list: ${listedSids}`);
      assert.ok(listedSids.includes(created.sid), "created service not listed");
      assert.ok(listedSids.includes(plain.sid), "plain service not listed");
      const listedCreated = listed.find((s) => s.sid === created.sid);
      for (const [key, value] of Object.entries(fields)) assert.equal(listedCreated[key], value, `listed.${key}`);

      // Update: changed fields change, the others stay.
      const updated = await client.sync.v1.services(created.sid).update({
        friendlyName: "renamed",
        aclEnabled: false,
        reachabilityDebouncingWindow: 3000,
        webhookUrl: "http://127.0.0.1:9/other",
      });
      assert.equal(updated.sid, created.sid);
      assert.equal(updated.friendlyName, "renamed");
      assert.equal(updated.aclEnabled, false);
      assert.equal(updated.reachabilityDebouncingWindow, 3000);
      assert.equal(updated.webhookUrl, "http://127.0.0.1:9/other");
      assert.equal(updated.reachabilityWebhooksEnabled, true);
      assert.equal(updated.reachabilityDebouncingEnabled, true);
      assert.equal(updated.webhooksFromRestEnabled, true);
      assert.ok(updated.dateUpdated >= created.dateUpdated);
      const refetched = await client.sync.v1.services(created.sid).fetch();
      assert.equal(refetched.friendlyName, "renamed");
      assert.equal(refetched.aclEnabled, false);
      assert.equal(refetched.reachabilityDebouncingWindow, 3000);

      // Delete: the service and its streams are gone.
      const stream = await client.sync.v1.services(created.sid).syncStreams.create({ uniqueName: "inside" });
      assert.equal(await client.sync.v1.services(created.sid).remove(), true);
      await expectRestError(client.sync.v1.services(created.sid).fetch(), 404, 20404, "fetch deleted service");
      await expectRestError(
        client.sync.v1.services(created.sid).syncStreams(stream.sid).fetch(),
        404,
        20404,
        "fetch stream of deleted service",
      );
      await expectRestError(
        client.sync.v1.services(created.sid).syncStreams.list(),
        404,
        20404,
        "list streams of deleted service",
      );
      await expectRestError(client.sync.v1.services(created.sid).remove(), 404, 20404, "delete deleted service");
      await expectRestError(client.sync.v1.services(created.sid).update({ friendlyName: "x" }), 404, 20404, "update deleted service");
      const after = await client.sync.v1.services.list();
      assert.ok(!after.some((s) => s.sid === created.sid), "deleted service still listed");
      assert.equal(await client.sync.v1.services(plain.sid).remove(), true);
    });

    it("rejects a ReachabilityDebouncingWindow outside 1,000..30,000 ms with HTTP 400", async () => {
      for (const window of [999, 30001]) {
        let error;
        try {
          await client.sync.v1.services.create({ reachabilityDebouncingWindow: window });
        } catch (caught) {
          error = caught;
        }
        assert.ok(error instanceof twilio.RestException, `window ${window}: expected a RestException, got ${error}`);
        assert.equal(error.status, 400, `window ${window}: HTTP status`);
        assert.equal(typeof error.code, "number", `window ${window}: code`);
      }
    });

    it("missing services answer 404 / 20404", async () => {
      const sid = missingServiceSid();
      await expectRestError(client.sync.v1.services(sid).fetch(), 404, 20404, "fetch missing service");
      await expectRestError(client.sync.v1.services(sid).update({ friendlyName: "x" }), 404, 20404, "update missing service");
      await expectRestError(client.sync.v1.services(sid).remove(), 404, 20404, "delete missing service");
      await expectRestError(client.sync.v1.services(sid).syncStreams.create({}), 404, 20404, "create stream in missing service");
      await expectRestError(client.sync.v1.services(sid).syncStreams.list(), 404, 20404, "list streams of missing service");
      await expectRestError(
        client.sync.v1.services(sid).syncStreams(missingStreamSid()).streamMessages.create({ data: { a: 1 } }),
        404,
        20404,
        "publish in missing service",
      );
    });
  });

  describe("streams", () => {
    let service;
    before(async () => {
      service = await client.sync.v1.services.create({ friendlyName: "streams" });
    });
    const streams = () => client.sync.v1.services(service.sid).syncStreams;

    it("create with uniqueName + ttl: sid shape, created_by, date_expires = date_created + ttl", async () => {
      const stream = await streams().create({ uniqueName: "orders", ttl: 3600 });
      assertStreamShape(stream, service.sid, "orders");
      assert.equal(stream.uniqueName, "orders");
      assert.ok(stream.dateExpires instanceof Date, `date_expires is not a date: ${stream.dateExpires}`);
      assert.equal(stream.dateExpires.getTime() - stream.dateCreated.getTime(), 3600 * 1000, "date_expires - date_created");
      assert.equal(stream.dateUpdated.getTime(), stream.dateCreated.getTime());
      const skew = Math.abs(stream.dateCreated.getTime() - Date.now());
      assert.ok(skew < 60000, `date_created is ${skew} ms away from now`);

      const raw = await rawGet(client, stream.url);
      for (const key of ["date_created", "date_updated", "date_expires"]) assert.match(raw[key], DATE, `raw ${key}`);
      assert.equal(raw.created_by, "system");
      assert.equal(raw.unique_name, "orders");
    });

    it("create without a unique name: unique_name null, date_expires null", async () => {
      const stream = await streams().create({});
      assertStreamShape(stream, service.sid, "anonymous");
      assert.equal(stream.uniqueName, null);
      assert.equal(stream.dateExpires, null);
      const raw = await rawGet(client, stream.url);
      assert.equal(raw.unique_name, null, "raw unique_name");
      assert.equal(raw.date_expires, null, "raw date_expires");
      const withZeroTtl = await streams().create({ ttl: 0 });
      assert.equal(withZeroTtl.dateExpires, null, "ttl 0 means no expiry");
    });

    it("fetch by SID and by unique name, including spaces and non-ASCII", async () => {
      const created = await streams().create({ uniqueName: "a b ü", ttl: 120 });
      assert.equal(created.uniqueName, "a b ü");
      const byName = await streams()("a b ü").fetch();
      assert.equal(byName.sid, created.sid);
      assert.equal(byName.uniqueName, "a b ü");
      assert.equal(byName.url, `${engine.base}/v1/Services/${service.sid}/Streams/${created.sid}`, "url carries the SID");
      const bySid = await streams()(created.sid).fetch();
      assert.equal(bySid.sid, created.sid);
      assert.equal(bySid.uniqueName, "a b ü");
      assert.equal(bySid.dateExpires.getTime(), created.dateExpires.getTime());
      // The unique name also works for the service alias + every other stream operation.
      const byDefaultAlias = client.sync.v1.services("default").syncStreams("a b ü");
      await expectRestError(byDefaultAlias.fetch(), 404, 20404, "name from another service");
      const updated = await streams()("a b ü").update({ ttl: 30 });
      assert.equal(updated.sid, created.sid);
      const message = await streams()("a b ü").streamMessages.create({ data: { via: "name" } });
      assert.match(message.sid, SID.message);
      assert.equal(await streams()("a b ü").remove(), true);
      await expectRestError(streams()(created.sid).fetch(), 404, 20404, "fetch after delete by name");
    });

    it("list({limit: 1000}) and larger limits: PageSize past 1000 is a full page of 1000, nothing missing", async () => {
      const bigService = await client.sync.v1.services.create({ friendlyName: "a thousand and more" });
      const big = client.sync.v1.services(bigService.sid).syncStreams;
      const total = 1203;
      const created = [];
      for (let start = 0; start < total; start += 50) {
        const batch = [];
        for (let i = start; i < Math.min(total, start + 50); i++) batch.push(big.create({ uniqueName: `big-${i}` }));
        for (const stream of await Promise.all(batch)) created.push(stream.sid);
      }

      // The client sends PageSize equal to its limit, uncapped.
      const services = await client.sync.v1.services.list({ limit: 1000 });
      assert.ok(services.some((s) => s.sid === bigService.sid), "services.list({limit: 1000}) misses a service");
      const thousand = await big.list({ limit: 1000 });
      assert.equal(thousand.length, 1000, "list({limit: 1000})");
      assert.equal(new Set(thousand.map((s) => s.sid)).size, 1000, "duplicates in list({limit: 1000})");
      for (const limit of [2500, 5000]) {
        const all = await big.list({ limit });
        const sids = all.map((s) => s.sid);
        assert.equal(sids.length, total, `list({limit: ${limit}}) returned ${sids.length} streams`);
        assert.deepEqual([...sids].sort(), [...created].sort(), `list({limit: ${limit}}): SIDs differ`);
      }
      const everything = await big.list();
      assert.equal(everything.length, total, "list() with the default page size");

      // Page by page: 1000 then 203, the next page's URL saying 1000.
      const pages = await listAllPages(big.page({ pageSize: 5000 }));
      assert.deepEqual(pages.map((p) => p.instances.length), [1000, 203], "page sizes for pageSize 5000");
      assert.match(pages[0].nextPageUrl, /PageSize=1000&Page=1&PageToken=/);
      const raw = await rawGet(client, `${engine.base}/v1/Services/${bigService.sid}/Streams?PageSize=5000`);
      assert.equal(raw.meta.page_size, 1000, "meta.page_size for PageSize=5000");
      assert.equal(raw.streams.length, 1000);
      assert.equal(await client.sync.v1.services(bigService.sid).remove(), true);
    });

    it("list with paging: 7 streams, pageSize 3, the client's own paging; no duplicates, none missing", async () => {
      const pagingService = await client.sync.v1.services.create({ friendlyName: "paging" });
      const paged = client.sync.v1.services(pagingService.sid).syncStreams;
      const created = [];
      for (let i = 0; i < 7; i++) created.push((await paged.create({ uniqueName: `page-${i}` })).sid);

      const all = await paged.list({ pageSize: 3 });
      const sids = all.map((s) => s.sid);
      assert.equal(sids.length, 7, `list returned ${sids.length} streams`);
      assert.equal(new Set(sids).size, 7, `duplicates in list: ${sids}`);
      assert.deepEqual([...sids].sort(), [...created].sort(), "listed SIDs differ from created SIDs");
      for (const s of all) assertStreamShape(s, pagingService.sid, `listed ${s.uniqueName}`);

      const limited = await paged.list({ limit: 5 });
      assert.equal(limited.length, 5, "list({limit: 5})");
      assert.equal(new Set(limited.map((s) => s.sid)).size, 5);

      const each = [];
      await paged.each({ pageSize: 2 }, (s) => each.push(s.sid));
      assert.deepEqual([...each].sort(), [...created].sort(), "each({pageSize: 2})");

      // Page by page: sizes 3, 3, 1; next_page_url points back at this engine.
      const pages = await listAllPages(paged.page({ pageSize: 3 }));
      assert.deepEqual(pages.map((p) => p.instances.length), [3, 3, 1], "page sizes");
      const first = pages[0];
      assert.ok(first.nextPageUrl, "first page has no next_page_url");
      assert.ok(first.nextPageUrl.startsWith(`${engine.base}/v1/Services/${pagingService.sid}/Streams?`), `next_page_url: ${first.nextPageUrl}`);
      assert.match(first.nextPageUrl, /PageSize=3&Page=1&PageToken=/);
      assert.equal(first.previousPageUrl, undefined, "first page has a previous_page_url");
      assert.ok(pages[2].previousPageUrl, "last page has no previous_page_url");
      assert.equal(pages[2].nextPageUrl, undefined, "last page has a next_page_url");
      const pageSids = pages.flatMap((p) => p.instances.map((s) => s.sid));
      assert.deepEqual([...pageSids].sort(), [...created].sort(), "page-by-page SIDs");

      const rawFirst = await rawGet(client, `${engine.base}/v1/Services/${pagingService.sid}/Streams?PageSize=3`);
      assert.equal(rawFirst.meta.key, "streams");
      assert.equal(rawFirst.meta.page, 0);
      assert.equal(rawFirst.meta.page_size, 3);
      assert.equal(rawFirst.meta.previous_page_url, null);
      assert.ok(rawFirst.meta.first_page_url.startsWith(engine.base));
      assert.ok(rawFirst.meta.url.startsWith(engine.base));
      const rawSecond = await rawGet(client, rawFirst.meta.next_page_url);
      assert.equal(rawSecond.meta.page, 1);
      assert.equal(rawSecond.streams.length, 3);

      assert.equal(await client.sync.v1.services(pagingService.sid).remove(), true);
    });

    it("update ttl sets a new expiry; ttl 0 clears it", async () => {
      const stream = await streams().create({ uniqueName: "ttl-updates" });
      assert.equal(stream.dateExpires, null);
      const withTtl = await streams()(stream.sid).update({ ttl: 60 });
      assert.equal(withTtl.sid, stream.sid);
      assert.ok(withTtl.dateExpires instanceof Date, `date_expires after ttl 60: ${withTtl.dateExpires}`);
      assert.equal(withTtl.dateExpires.getTime() - withTtl.dateUpdated.getTime(), 60 * 1000, "date_expires - date_updated");
      assert.equal((await streams()(stream.sid).fetch()).dateExpires.getTime(), withTtl.dateExpires.getTime());
      const maxTtl = await streams()(stream.sid).update({ ttl: 31536000 });
      assert.equal(maxTtl.dateExpires.getTime() - maxTtl.dateUpdated.getTime(), 31536000 * 1000);
      const cleared = await streams()(stream.sid).update({ ttl: 0 });
      assert.equal(cleared.dateExpires, null, "ttl 0 should clear date_expires");
      assert.equal((await streams()(stream.sid).fetch()).dateExpires, null, "fetched date_expires after ttl 0");
    });

    it("an update without parameters answers 54010 (400)", async () => {
      const stream = await streams().create({ uniqueName: "no-params", ttl: 100 });
      await expectRestError(streams()(stream.sid).update({}), 400, 54010, "update without Ttl");
      const unchanged = await streams()(stream.sid).fetch();
      assert.equal(unchanged.dateExpires.getTime(), stream.dateExpires.getTime());
    });

    it("an expired stream disappears: fetch 404, not listed, name free", async () => {
      const stream = await streams().create({ uniqueName: "short-lived", ttl: 1 });
      assert.equal(stream.dateExpires.getTime() - stream.dateCreated.getTime(), 1000);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await expectRestError(streams()(stream.sid).fetch(), 404, 20404, "fetch expired stream");
      await expectRestError(streams()("short-lived").fetch(), 404, 20404, "fetch expired stream by name");
      await expectRestError(
        streams()(stream.sid).streamMessages.create({ data: { late: true } }),
        404,
        20404,
        "publish to expired stream",
      );
      const listed = await streams().list();
      assert.ok(!listed.some((s) => s.sid === stream.sid), "expired stream still listed");
      const reborn = await streams().create({ uniqueName: "short-lived" });
      assert.notEqual(reborn.sid, stream.sid);
    });

    it("an invalid PageToken answers 21481 (400)", async () => {
      await expectRestError(streams().page({ pageSize: 2, pageToken: "garbage" }), 400, 21481, "PageToken garbage");
    });

    it("delete, then fetch/update/delete/publish answer 404 / 20404", async () => {
      const stream = await streams().create({ uniqueName: "doomed" });
      assert.equal(await streams()(stream.sid).remove(), true);
      await expectRestError(streams()(stream.sid).fetch(), 404, 20404, "fetch deleted stream");
      await expectRestError(streams()("doomed").fetch(), 404, 20404, "fetch deleted stream by name");
      await expectRestError(streams()(stream.sid).update({ ttl: 5 }), 404, 20404, "update deleted stream");
      await expectRestError(streams()(stream.sid).remove(), 404, 20404, "delete deleted stream");
      await expectRestError(
        streams()(stream.sid).streamMessages.create({ data: { a: 1 } }),
        404,
        20404,
        "publish to deleted stream",
      );
      const listed = await streams().list();
      assert.ok(!listed.some((s) => s.sid === stream.sid), "deleted stream still listed");
      // Its unique name is free again.
      const reborn = await streams().create({ uniqueName: "doomed" });
      assert.notEqual(reborn.sid, stream.sid);
    });

    it("missing streams answer 404 / 20404", async () => {
      await expectRestError(streams()(missingStreamSid()).fetch(), 404, 20404, "fetch missing stream SID");
      await expectRestError(streams()("no-such-name").fetch(), 404, 20404, "fetch missing unique name");
      await expectRestError(streams()(missingStreamSid()).update({ ttl: 10 }), 404, 20404, "update missing stream");
      await expectRestError(streams()(missingStreamSid()).remove(), 404, 20404, "delete missing stream");
    });

    it("54301 (409) for a duplicate unique name", async () => {
      await streams().create({ uniqueName: "dup" });
      await expectRestError(streams().create({ uniqueName: "dup" }), 409, 54301, "duplicate unique name");
      await expectRestError(streams().create({ uniqueName: "dup", ttl: 10 }), 409, 54301, "duplicate unique name with ttl");
      // The same name in another service is fine.
      const other = await client.sync.v1.services("default").syncStreams.create({ uniqueName: "dup" });
      assert.equal(other.uniqueName, "dup");
      await client.sync.v1.services("default").syncStreams(other.sid).remove();
    });

    it("54302 (400) for an invalid unique name: empty, 321 characters, SID-shaped", async () => {
      await expectRestError(streams().create({ uniqueName: "" }), 400, 54302, "empty unique name");
      await expectRestError(streams().create({ uniqueName: "n".repeat(321) }), 400, 54302, "321-character unique name");
      await expectRestError(streams().create({ uniqueName: "TO" + randomHex(16) }), 400, 54302, "SID-shaped unique name");
      await expectRestError(streams().create({ uniqueName: "IS" + randomHex(16) }), 400, 54302, "service-SID-shaped unique name");
      const longest = await streams().create({ uniqueName: "ü".repeat(320) });
      assert.equal(longest.uniqueName, "ü".repeat(320), "320 characters are allowed");
      assert.equal((await streams()("ü".repeat(320)).fetch()).sid, longest.sid);
    });

    it("54011 (400) for ttl 31536001 and ttl -1, on create and on update", async () => {
      await expectRestError(streams().create({ ttl: 31536001 }), 400, 54011, "create ttl 31536001");
      await expectRestError(streams().create({ ttl: -1 }), 400, 54011, "create ttl -1");
      await expectRestError(streams().create({ uniqueName: "bad-ttl", ttl: -1 }), 400, 54011, "create named, ttl -1");
      await expectRestError(streams()("bad-ttl").fetch(), 404, 20404, "no stream was created by a refused create");
      const stream = await streams().create({ uniqueName: "ttl-bounds", ttl: 31536000 });
      assert.equal(stream.dateExpires.getTime() - stream.dateCreated.getTime(), 31536000 * 1000);
      await expectRestError(streams()(stream.sid).update({ ttl: 31536001 }), 400, 54011, "update ttl 31536001");
      await expectRestError(streams()(stream.sid).update({ ttl: -1 }), 400, 54011, "update ttl -1");
      const unchanged = await streams()(stream.sid).fetch();
      assert.equal(unchanged.dateExpires.getTime(), stream.dateExpires.getTime(), "a refused update changed date_expires");
    });
  });

  describe("stream messages", () => {
    let stream;
    const messages = () => client.sync.v1.services("default").syncStreams(stream.sid).streamMessages;
    before(async () => {
      stream = await client.sync.v1.services("default").syncStreams.create({ uniqueName: "messages" });
    });

    it("publish echoes the data and a TZ sid, including non-ASCII content", async () => {
      const data = {
        a: 1,
        text: "héllo ü & = + % ? # / 😀 日本語",
        nested: { list: [1, "two", null, true, 2.5], empty: {} },
      };
      const message = await messages().create({ data });
      assert.match(message.sid, SID.message);
      assert.deepEqual(message.data, data);
      const second = await messages().create({ data: { a: 1 } });
      assert.match(second.sid, SID.message);
      assert.notEqual(second.sid, message.sid, "message SIDs must be unique");
      const empty = await messages().create({ data: {} });
      assert.deepEqual(empty.data, {});
      const byName = await client.sync.v1.services("default").syncStreams("messages").streamMessages.create({ data: { n: "ü" } });
      assert.deepEqual(byName.data, { n: "ü" });
      const asString = await messages().create({ data: '{"raw":"string ü"}' });
      assert.deepEqual(asString.data, { raw: "string ü" }, "a JSON string Data is parsed");
    });

    it("54006 (413) for Data over 4096 bytes as compact JSON; exactly 4096 is fine", async () => {
      // {"s":"…"} is 8 bytes plus the string.
      const exact = await messages().create({ data: { s: "x".repeat(4088) } });
      assert.equal(exact.data.s.length, 4088);
      await expectRestError(messages().create({ data: { s: "x".repeat(4089) } }), 413, 54006, "4097-byte Data");
      await expectRestError(messages().create({ data: { s: "x".repeat(5000) } }), 413, 54006, "5008-byte Data");
      // Multi-byte characters count in UTF-8 bytes: 2045 × "ü" = 4090 bytes + 8 > 4096.
      await expectRestError(messages().create({ data: { s: "ü".repeat(2045) } }), 413, 54006, "non-ASCII Data over 4096 bytes");
      const fits = await messages().create({ data: { s: "ü".repeat(2044) } });
      assert.equal(fits.data.s, "ü".repeat(2044), "4096 bytes of UTF-8 fit");
    });

    it("54008 (400) for Data that is not JSON or not an object", async () => {
      await expectRestError(messages().create({ data: "not-json" }), 400, 54008, "Data not-json");
      await expectRestError(messages().create({ data: [1, 2, 3] }), 400, 54008, "Data a JSON array");
      await expectRestError(messages().create({ data: '"a string"' }), 400, 54008, "Data a JSON string");
      await expectRestError(messages().create({ data: "42" }), 400, 54008, "Data a JSON number");
      await expectRestError(messages().create({ data: '{"a":' }), 400, 54008, "Data truncated JSON");
      // An emoji cut in half by slice(): JSON.stringify writes the lone surrogate as \ud83d.
      const cut = "ok 😀".slice(0, 4);
      const error = await expectRestError(messages().create({ data: { text: cut } }), 400, 54008, "Data with a lone surrogate");
      assert.match(error.message, /lone UTF-16 surrogate \\ud83d/, "the message names the surrogate");
      const whole = await messages().create({ data: { text: "ok 😀" } });
      assert.deepEqual(whole.data, { text: "ok 😀" }, "a whole pair is the character");
    });

    it("54009 (429) publishing beyond the rate limit (engine with --publish-rate 1: burst 10)", async () => {
      limitedEngine = await startEngine(ENGINE_BINARY, credentials, ["--publish-rate", "1"]);
      const limitedClient = clientFor(limitedEngine.base, credentials.accountSid, credentials.authToken);
      const limited = await limitedClient.sync.v1.services("default").syncStreams.create({ uniqueName: "burst" });
      const publish = (i) =>
        limitedClient.sync.v1.services("default").syncStreams(limited.sid).streamMessages.create({ data: { i } });
      let accepted = 0;
      let refusal;
      for (let i = 1; i <= 30 && !refusal; i++) {
        try {
          const m = await publish(i);
          assert.match(m.sid, SID.message);
          accepted++;
        } catch (error) {
          refusal = { at: i, error };
        }
      }
      assert.ok(refusal, `30 publishes in a row were all accepted with --publish-rate 1`);
      assert.ok(refusal.error instanceof twilio.RestException, `publish ${refusal.at} failed with ${refusal.error}`);
      assert.equal(refusal.error.status, 429, `publish ${refusal.at}: HTTP status (${refusal.error.message})`);
      assert.equal(refusal.error.code, 54009, `publish ${refusal.at}: Twilio code`);
      assert.equal(refusal.error.moreInfo, "https://www.twilio.com/docs/errors/54009");
      assert.ok(refusal.at >= 10 && refusal.at <= 12, `429 came at publish ${refusal.at}; expected after the 10-message burst (publish 11 or 12)`);
      assert.ok(accepted >= 9, `only ${accepted} publishes accepted before the 429`);
      await expectRestError(publish(99), 429, 54009, "publishing again immediately");
      // Another stream has its own budget.
      const other = await limitedClient.sync.v1.services("default").syncStreams.create({});
      const ok = await limitedClient.sync.v1.services("default").syncStreams(other.sid).streamMessages.create({ data: { ok: true } });
      assert.match(ok.sid, SID.message);
    });
  });

  describe("authentication", () => {
    it("20003 (401) for a wrong auth token or an unknown account", async () => {
      const wrongToken = clientFor(engine.base, credentials.accountSid, randomHex(16));
      await expectRestError(wrongToken.sync.v1.services("default").fetch(), 401, 20003, "wrong auth token: fetch");
      await expectRestError(wrongToken.sync.v1.services.create({ friendlyName: "x" }), 401, 20003, "wrong auth token: create service");
      await expectRestError(wrongToken.sync.v1.services.list(), 401, 20003, "wrong auth token: list");
      await expectRestError(
        wrongToken.sync.v1.services("default").syncStreams.create({ uniqueName: "intruder" }),
        401,
        20003,
        "wrong auth token: create stream",
      );
      const wrongAccount = clientFor(engine.base, "AC" + randomHex(16), credentials.authToken);
      await expectRestError(wrongAccount.sync.v1.services("default").fetch(), 401, 20003, "unknown account SID");
      const wrongSecret = clientFor(engine.base, credentials.apiKey, randomHex(16), { accountSid: credentials.accountSid });
      await expectRestError(wrongSecret.sync.v1.services("default").fetch(), 401, 20003, "API key with a wrong secret");
      await expectRestError(client.sync.v1.services("default").syncStreams("intruder").fetch(), 404, 20404, "a refused create created nothing");
    });

    it("API key + secret authenticate", async () => {
      const keyClient = clientFor(engine.base, credentials.apiKey, credentials.apiSecret, { accountSid: credentials.accountSid });
      const service = await keyClient.sync.v1.services("default").fetch();
      assert.match(service.sid, SID.service);
      assert.equal(service.accountSid, credentials.accountSid);
      const stream = await keyClient.sync.v1.services("default").syncStreams.create({ uniqueName: "via-api-key", ttl: 600 });
      assert.equal(stream.createdBy, "system");
      const message = await keyClient.sync.v1.services("default").syncStreams(stream.sid).streamMessages.create({ data: { key: true } });
      assert.match(message.sid, SID.message);
      const listed = await keyClient.sync.v1.services("default").syncStreams.list({ pageSize: 2 });
      assert.ok(listed.some((s) => s.sid === stream.sid));
      assert.equal(await keyClient.sync.v1.services("default").syncStreams(stream.sid).remove(), true);
    });
  });
});
