// A real OpenID provider (oidc-provider) on loopback for Akta's end-to-end OIDC tests.
//
// Usage: node server.js [port]     (port 0 or none: a free port)
// Environment:
//   OIDC_CLIENTS  JSON array of client metadata (client_id, client_secret, redirect_uris, …);
//                 the test passes its Akta's random port in the redirect URIs this way.
//
// Prints `OIDC_PROVIDER_URL=http://127.0.0.1:<port>` on stdout once it accepts requests.
//
// There is no login page: a browser-less test follows the redirects itself and, at
// `/interaction/<uid>?account=<id>`, is logged in as that account at once. Consent is given
// automatically. `PUT /test/accounts/<id>` (JSON object) replaces an account's claims, so a
// test can change a role claim between two logins.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

// The claims each account has. The sub differs from the username on purpose: Akta must key
// its users by sub and take the username from preferred_username.
const accounts = new Map([
  ['anna', {
    sub: 'anna', preferred_username: 'anna.schmidt', name: 'Anna Schmidt',
    email: 'anna.schmidt@herdecke.example', email_verified: true, akta_role: 'sachbearbeitung',
  }],
  ['bob', {
    sub: 'bob', preferred_username: 'bob.becker', name: 'Bob Becker',
    email: 'bob.becker@herdecke.example', email_verified: true, akta_role: 'hausmeisterei',
  }],
  ['carla', {
    sub: 'carla', email: 'carla.clausen@wetter.example', name: 'Carla Clausen',
    akta_role: ['gast', 'archiv'],
  }],
]);

function parseClients() {
  const raw = process.env.OIDC_CLIENTS;
  if (!raw) {
    throw new Error('OIDC_CLIENTS is not set (a JSON array of client metadata)');
  }
  const clients = JSON.parse(raw);
  if (!Array.isArray(clients) || clients.length === 0) {
    throw new Error('OIDC_CLIENTS must be a non-empty JSON array');
  }
  return clients;
}

// Fresh keys every run: one RSA and one P-256 key, so clients can ask for RS256 or ES256.
function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    .export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    .export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' },
    { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
  ];
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function configuration() {
  return {
    clients: parseClients(),
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      // A custom scope for the role claim, as IdPs such as Keycloak have for roles.
      akta: ['akta_role'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'akta'],
    // Short, explicit lifetimes (seconds); the defaults would print a notice each.
    ttl: {
      AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600,
    },
    // Akta must send PKCE; requiring it here proves it does.
    pkce: { required: () => true },
    features: {
      // Our own browser-less interaction below replaces the built-in login pages.
      devInteractions: { enabled: false },
    },
    async findAccount(_ctx, id) {
      if (!accounts.has(id)) return undefined;
      return {
        accountId: id,
        // Read at token and userinfo time, so a claim changed between logins shows.
        async claims() {
          return { ...accounts.get(id), sub: id };
        },
      };
    },
  };
}

// Logs in the account named by `?account=` or gives consent, whichever the provider asks for.
async function interaction(provider, ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  let merge = false;
  switch (details.prompt.name) {
    case 'login': {
      const accountId = ctx.query.account;
      if (!accounts.has(accountId)) {
        ctx.status = 400;
        ctx.body = `unknown account ${JSON.stringify(accountId)}`;
        return;
      }
      result = { login: { accountId } };
      break;
    }
    case 'consent': {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      const grantId = await grant.save();
      result = { consent: details.grantId ? {} : { grantId } };
      merge = true;
      break;
    }
    default:
      ctx.status = 400;
      ctx.body = `unsupported prompt ${details.prompt.name}`;
      return;
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: merge,
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

async function main() {
  const server = createServer();
  // Listen first: the issuer URL has to name the port, which may be chosen by the system.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, resolve);
  });
  const issuer = `http://${HOST}:${server.address().port}`;
  const provider = new Provider(issuer, configuration());

  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      return interaction(provider, ctx);
    }
    const account = ctx.path.match(/^\/test\/accounts\/([^/]+)$/);
    if (ctx.method === 'PUT' && account) {
      const claims = await readJson(ctx.req);
      accounts.set(account[1], { ...claims, sub: account[1] });
      ctx.status = 204;
      return undefined;
    }
    return next();
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));

  server.on('request', provider.callback());
  console.log(`OIDC_PROVIDER_URL=${issuer}`);

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
