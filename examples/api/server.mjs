// A minimal internal API that accepts Bastion's OIDC access tokens: JWTs (typ at+jwt) verified with
// the JWKS, for this API's audience only. Node 20+, one dependency: `npm i jose`. Run:
//   BASTION_ISSUER=https://bastion.example.com/oidc API_AUDIENCE=https://reports.example.com node server.mjs
// Register the API first: POST /api/v1/resource-servers {name, audience: API_AUDIENCE, scopes: ["reports:read"]}.
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { BASTION_ISSUER, API_AUDIENCE, PORT = '5000' } = process.env;
// Fetched once and cached; refetched when a token names an unknown key (a key rotation).
const JWKS = createRemoteJWKSet(new URL(`${BASTION_ISSUER}/jwks`));

async function authenticate(req) {
  const token = /^Bearer ([\w.-]+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return null;
  const { payload } = await jwtVerify(token, JWKS, {
    issuer: BASTION_ISSUER,
    audience: API_AUDIENCE,
    typ: 'at+jwt',
    algorithms: ['RS256', 'ES256'],
  });
  return payload;
}

createServer(async (req, res) => {
  let caller;
  try {
    caller = await authenticate(req);
  } catch {
    caller = null;
  }
  if (!caller) {
    res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
    return;
  }
  if (!String(caller.scope ?? '').split(' ').includes('reports:read')) {
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"insufficient_scope"}');
    return;
  }
  // `sub` is the Bastion user id in a user's token, the client's id in a client_credentials token.
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reports: [], caller: { sub: caller.sub ?? null, client: caller.client_id } }));
}).listen(Number(PORT), () => console.log(`listening on :${PORT}`));
