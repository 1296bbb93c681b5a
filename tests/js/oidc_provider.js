// A real OpenID Connect provider (the npm `oidc-provider`) for the single sign-on tests.
//
//   node oidc_provider.js <port> <redirectUri> [clientSecret]
//
// Listens on 127.0.0.1:<port> (0: any free port) and, once listening, prints one JSON line on
// stdout: {"issuer": "http://127.0.0.1:<port>", "clientId": "paperworks"}. It runs until it is
// killed. One client, `paperworks`, may sign in with the authorization code flow, PKCE required,
// back to <redirectUri>; with a client secret it authenticates with client_secret_basic, without
// one it is a public client. Its built-in development pages (devInteractions) are the login form
// and the consent form: any login name signs in as the account of that name (see ACCOUNTS).
// ID tokens are signed with RS256 by a key made at start, and carry the email claims.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const [portArgument, redirectUri, clientSecret] = process.argv.slice(2);
if (portArgument === undefined || redirectUri === undefined) {
  console.error("usage: node oidc_provider.js <port> <redirectUri> [clientSecret]");
  process.exit(2);
}

const CLIENT_ID = "paperworks";
// Accounts by login name; any other name is a verified <name>@example.com.
const ACCOUNTS = {
  ada: { email: "ada@example.com", email_verified: true, name: "Ada Lovelace" },
  grace: { email: "grace@example.com", email_verified: false, name: "Grace Hopper" },
};

function account(login) {
  return ACCOUNTS[login] ?? { email: `${login}@example.com`, email_verified: true };
}

const signingKey = {
  ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }),
  kid: "test-key-1",
  use: "sig",
  alg: "RS256",
};

const client = {
  client_id: CLIENT_ID,
  redirect_uris: [redirectUri],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  ...(clientSecret
    ? { client_secret: clientSecret, token_endpoint_auth_method: "client_secret_basic" }
    : { token_endpoint_auth_method: "none" }),
};

const server = createServer();
server.listen(Number(portArgument), "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [client],
    jwks: { keys: [signingKey] },
    cookies: { keys: ["paperworks-test-cookie-key"] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    // The scopes' claims in the ID token itself, as Keycloak and Google put them, rather than
    // only at the userinfo endpoint.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, ...account(sub) };
        },
      };
    },
  });
  provider.on("server_error", (ctx, error) => console.error("server_error", error));
  server.on("request", provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, clientId: CLIENT_ID })}\n`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // kept-alive ones too, or close would wait for them
  });
}
