// A plain-HTTP client for the engine's control plane (`/_engine/…`, docs/engine.md#control-plane):
// node's fetch, JSON in and out, HTTP Basic with the engine's credentials.
"use strict";

const assert = require("node:assert/strict");
const { basic } = require("../support/engineprocess.js");

/**
 * The control plane of `engine` ({base}). Every call resolves to {status, headers, json, text};
 * only a connection failure rejects. `auth` is "account" (SID + auth token, the default), "key"
 * (API key SID + secret), null (no Authorization header) or a header value of your own.
 */
function controlPlane(engine, credentials) {
  const headerFor = (auth) => {
    if (auth === null) return {};
    if (auth === undefined || auth === "account") return { Authorization: basic(credentials.accountSid, credentials.authToken) };
    if (auth === "key") return { Authorization: basic(credentials.apiKey, credentials.apiSecret) };
    return { Authorization: auth };
  };

  /** One request; `body` is sent as JSON unless it is a string (sent as is). */
  async function request(method, path, body, { auth, headers = {} } = {}) {
    const init = { method, headers: { ...headerFor(auth), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      if (!("Content-Type" in init.headers)) init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(engine.base + path, init);
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, text };
  }

  /** `request`, which must answer `status`; resolves to the JSON body. */
  async function expect(status, method, path, body, options) {
    const answer = await request(method, path, body, options);
    assert.equal(answer.status, status, `${method} ${path} ${body === undefined ? "" : JSON.stringify(body).slice(0, 200)}: HTTP status; body ${answer.text.slice(0, 500)}`);
    return answer.json;
  }

  return {
    request,
    expect,
    health: () => expect(200, "GET", "/_engine/health", undefined, { auth: null }),
    exportState: () => expect(200, "GET", "/_engine/state"),
    importState: (snapshot) => expect(200, "PUT", "/_engine/state", snapshot),
    reset: () => expect(200, "POST", "/_engine/reset"),
    clock: () => expect(200, "GET", "/_engine/clock"),
    advance: (seconds) => expect(200, "POST", "/_engine/clock", { advance_seconds: seconds }),
    addFault: (rule) => expect(201, "POST", "/_engine/faults", rule),
    faults: async () => (await expect(200, "GET", "/_engine/faults")).faults,
    fault: async (id) => {
      const rule = (await expect(200, "GET", "/_engine/faults")).faults.find((r) => r.id === id);
      assert.ok(rule, `fault rule ${id} is not listed`);
      return rule;
    },
    removeFault: (id) => expect(204, "DELETE", `/_engine/faults/${encodeURIComponent(id)}`),
    clearFaults: () => expect(204, "DELETE", "/_engine/faults"),
    traffic: (query = "") => expect(200, "GET", `/_engine/traffic${query ? "?" + query : ""}`),
  };
}

/**
 * Asserts a Twilio error answer: `status`, the JSON {code, message, more_info, status} and, when
 * given, text the message must contain (a string or a RegExp).
 */
function assertTwilioError(answer, status, code, what, messageHas) {
  assert.equal(answer.status, status, `${what}: HTTP status; body ${answer.text.slice(0, 500)}`);
  assert.ok(answer.json, `${what}: the body is not JSON: ${answer.text.slice(0, 500)}`);
  assert.deepEqual(Object.keys(answer.json).sort(), ["code", "message", "more_info", "status"], `${what}: error keys`);
  assert.equal(answer.json.code, code, `${what}: code (${answer.json.message})`);
  assert.equal(answer.json.status, status, `${what}: status in the body`);
  assert.equal(answer.json.more_info, `https://www.twilio.com/docs/errors/${code}`, `${what}: more_info`);
  assert.equal(typeof answer.json.message, "string", `${what}: message`);
  if (messageHas instanceof RegExp) assert.match(answer.json.message, messageHas, `${what}: message`);
  else if (messageHas !== undefined) assert.ok(answer.json.message.includes(messageHas), `${what}: message ${JSON.stringify(answer.json.message)} does not name ${JSON.stringify(messageHas)}`);
  return answer.json;
}

module.exports = { assertTwilioError, basic, controlPlane };
