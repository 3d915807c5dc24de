// A real OpenID Connect provider (npm `oidc-provider`) for learntrace's sign-in tests.
// Started by the `oidc_provider` fixture in tests/oidc_server.py:
//   node server.mjs '{"port": 0, "clients": [...], "accounts": {...}}'
// It prints one line {"issuer": "http://127.0.0.1:PORT"} once it listens. Its login page is a plain
// form (login, password) that the browser tests fill in; consent is granted without asking, as a
// company portal does for its own applications. PKCE is required of every client.
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";

import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);
const accounts = config.accounts; // login -> {password, claims: {sub, ...}}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-signing-key", use: "sig", alg: "RS256" };

function accountBySub(sub) {
  return Object.values(accounts).find((account) => account.claims.sub === sub);
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginForm(uid, error) {
  return page("Company portal", `<h1>Company portal</h1>
    ${error ? `<p id="error">${escape(error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}/login">
      <label>Login <input name="login" autocomplete="off"></label>
      <label>Password <input name="password" type="password"></label>
      <button type="submit">Continue</button>
    </form>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => resolve(Object.fromEntries(new URLSearchParams(body))));
    req.on("error", reject);
  });
}

async function start(port) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: ["learntrace-test-cookie-key"] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    scopes: ["openid", "email", "profile", "employee"],
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      employee: ["employee_no"],
    },
    async findAccount(ctx, sub) {
      const account = accountBySub(sub);
      if (!account) return undefined;
      return { accountId: sub, async claims() { return { ...account.claims }; } };
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  async function interaction(req, res) {
    const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === "login") {
      if (!match[2]) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(loginForm(details.uid));
      }
      const form = await readForm(req);
      const account = accounts[form.login];
      if (!account || account.password !== form.password) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(loginForm(details.uid, "Wrong login or password"));
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.claims.sub } },
        { mergeWithLastSubmission: false });
    }
    // Consent: the portal's own application gets what it asked for.
    const { params, session, prompt } = details;
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    if (prompt.details.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(" "));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  const callback = provider.callback();
  server.on("request", (req, res) => {
    if (req.url.startsWith("/interaction/")) {
      interaction(req, res).catch((error) => {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(String(error.message));
      });
    } else {
      callback(req, res);
    }
  });
  process.stdout.write(JSON.stringify({ issuer }) + "\n");
}

start(config.port || 0);
