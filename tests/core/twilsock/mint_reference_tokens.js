// Prints the reference tokens tst_accesstoken.cpp checks against, minted by the official npm
// `twilio` AccessToken (the library Twilio's docs tell servers to use). Date.now is pinned so
// the output is reproducible: node tests/core/twilsock/mint_reference_tokens.js
// (needs `npm ci` in tests/interop).
"use strict";
const path = require("path");
const twilio = require(path.join(__dirname, "../../interop/node_modules/twilio"));
const { AccessToken } = twilio.jwt;

const now = 1795327506;
Date.now = () => now * 1000;
const secret = "reference-secret-0123456789abcdef";
const account = "AC00000000000000000000000000000000";
const key = "SK11111111111111111111111111111111";
const service = "IS22222222222222222222222222222222";

function mint(name, options, grant, algorithm) {
  const token = new AccessToken(account, key, secret, options);
  token.addGrant(new AccessToken.SyncGrant(grant));
  console.log(`${name}\t${token.toJwt(algorithm)}`);
}

mint("hs256", { identity: "alice" }, { serviceSid: service });
mint("hs384 endpoint nbf", { identity: "bob", ttl: 600, nbf: now - 5 },
     { serviceSid: service, endpointId: "bob-device-1" }, "HS384");
mint("hs512 default service", { identity: "carol" }, {}, "HS512");
mint("escaped identity", { identity: "zoë \"q\" \\ \n\t\u0001 ✓" }, { serviceSid: service });
mint("region", { identity: "dave", region: "ie1" }, { serviceSid: service });
