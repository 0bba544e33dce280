// Node's openid-client (v6, a relying party library nobody here wrote)
// against a running Ward tenant. e2e/oidc_test.go starts Ward, makes the
// tenant, the user and the clients through GraphQL, and runs this script
// with the settings below in the environment. Every step asserts; the
// first failure prints what was expected and exits 1.
//
// The local test server speaks plain http on 127.0.0.1, which openid-client
// refuses unless a configuration carries allowInsecureRequests: every
// discovery() here passes it. A deployment serves https and needs none.
//
// Environment:
//   WARD_ISSUER            the tenant's issuer, e.g. http://127.0.0.1:8080/t/acme
//   WARD_CODE_CLIENT_ID    a public client (authMethod none) with the
//                          authorization_code and refresh_token grants
//   WARD_REDIRECT_URI      its redirect URI, http://127.0.0.1:<port>/callback;
//                          this script serves that port
//   WARD_POST_LOGOUT_URI   its post-logout redirect URI, on the same port
//   WARD_CONF_CLIENT_ID, WARD_CONF_CLIENT_SECRET
//                          a confidential client (client_secret_basic) with
//                          the client_credentials grant and scope api.read
//   WARD_PKJWT_CLIENT_ID, WARD_PKJWT_PRIVATE_JWK
//                          a private_key_jwt client with client_credentials
//                          and its ES256 private key as a JWK (with kid)
//   WARD_USERNAME, WARD_PASSWORD, WARD_USER_ID, WARD_USER_EMAIL
//                          the user who signs in on the hosted login page
//   CHROMIUM               the browser (default /usr/bin/chromium)
import assert from 'node:assert/strict';
import http from 'node:http';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) fail('setup', new Error(`${name} is not set`));
  return v;
};

function fail(name, err) {
  console.error(`FAIL ${name}: ${err?.stack ?? err}`);
  if (err?.error || err?.cause) {
    console.error(`  server said: ${JSON.stringify({ error: err.error,
      error_description: err.error_description, status: err.status, cause: err.cause })}`);
  }
  process.exit(1);
}

// step runs one check; the first failure ends the script with its name.
async function step(name, fn) {
  try {
    const note = await fn();
    console.log(`ok   ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    await browser?.close().catch(() => {});
    fail(name, err);
  }
}

// refused asserts that fn is refused with the given OAuth error code.
async function refused(fn, code) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${code}, but the request succeeded`);
  let got = err.error;
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // openid-client stops at a 401's challenge (RFC 6749 section 5.2 has
    // one with every invalid_client) before reading the body: read it here.
    assert.equal(err.status, 401);
    assert.ok(err.cause.some((c) => c.scheme === 'basic'), JSON.stringify(err.cause));
    got = (await err.response.json()).error;
  }
  assert.equal(got, code, `expected ${code}, got ${got ?? err}`);
}

const issuer = new URL(env('WARD_ISSUER'));
const codeClientId = env('WARD_CODE_CLIENT_ID');
const redirectUri = env('WARD_REDIRECT_URI');
const postLogoutUri = env('WARD_POST_LOGOUT_URI');
const confId = env('WARD_CONF_CLIENT_ID');
const confSecret = env('WARD_CONF_CLIENT_SECRET');
const pkjwtId = env('WARD_PKJWT_CLIENT_ID');
const pkjwtJwk = JSON.parse(env('WARD_PKJWT_PRIVATE_JWK'));
const username = env('WARD_USERNAME');
const password = env('WARD_PASSWORD');
const userId = env('WARD_USER_ID');
const userEmail = env('WARD_USER_EMAIL');
const insecure = { execute: [client.allowInsecureRequests] }; // plain http test server only

// The callback server: it answers every request with a short page; the
// browser's URL is what the script reads.
const callbackPort = Number(new URL(redirectUri).port);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>callback</title><p>callback received');
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(callbackPort, '127.0.0.1', resolve);
});

let browser, page;
const trail = [];
let pub, conf, pkjwt; // openid-client Configurations
let tokens, refreshed, idToken;

try {
  await run();
} finally {
  await browser?.close().catch(() => {});
  server.close();
}

// landOn waits until the browser reaches a URL starting with prefix and
// answers it; a timeout says where the browser is instead.
async function landOn(prefix) {
  try {
    await page.waitForURL((u) => u.href.startsWith(prefix), { timeout: 15000 });
  } catch (err) {
    const text = await page.locator('body').innerText().catch(() => '');
    throw new Error(`browser did not reach ${prefix}; it is at ${page.url()}:\n${text}\n` +
      `requests:\n${trail.slice(-12).join('\n')}`);
  }
  return new URL(page.url());
}

async function run() {
  await step('discovery (issuer, endpoints, S256, RFC 9207 iss)', async () => {
    pub = await client.discovery(issuer, codeClientId, undefined, client.None(), insecure);
    const m = pub.serverMetadata();
    assert.equal(m.issuer, issuer.href);
    assert.ok(m.code_challenge_methods_supported.includes('S256'));
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri',
      'introspection_endpoint', 'revocation_endpoint', 'pushed_authorization_request_endpoint']) {
      assert.ok(m[k]?.startsWith(issuer.href + '/'), `${k} = ${m[k]}`);
    }
    conf = await client.discovery(issuer, confId, undefined,
      client.ClientSecretBasic(confSecret), insecure);
    const key = await crypto.subtle.importKey('jwk', pkjwtJwk,
      { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    pkjwt = await client.discovery(issuer, pkjwtId, undefined,
      client.PrivateKeyJwt({ key, kid: pkjwtJwk.kid }), insecure);
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // The hosted pages work without scripts, as e2e/browser checks.
  const context = await browser.newContext({ javaScriptEnabled: false });
  page = await context.newPage();
  // Where the browser went, for the message of a step that fails.
  page.on('response', (r) => trail.push(`${r.status()} ${r.request().method()} ${r.url()}`));

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  let callback;
  await step('authorization request with PKCE S256, state and nonce; password sign-in', async () => {
    const url = client.buildAuthorizationUrl(pub, {
      redirect_uri: redirectUri, scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256', state, nonce,
    });
    await page.goto(url.href);
    assert.match(page.url(), new RegExp(`^${issuer.href}/login\\?`),
      `no session, yet not sent to the login page: ${page.url()}`);
    await page.getByLabel('Username or email').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    callback = await landOn(redirectUri);
    assert.equal(callback.searchParams.get('state'), state);
    assert.ok(callback.searchParams.get('code'), `no code in ${callback}`);
  });

  await step('authorizationCodeGrant (iss, state, PKCE, ID token signature, nonce, claims)', async () => {
    tokens = await client.authorizationCodeGrant(pub, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.sub, userId);
    assert.equal(claims.iss, issuer.href);
    assert.ok([].concat(claims.aud).includes(codeClientId), `aud ${claims.aud}`);
    assert.equal(claims.nonce, nonce);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token?.startsWith('wrt_'), 'no refresh token');
    idToken = tokens.id_token;
    return `sub ${claims.sub}, acr ${claims.acr}`;
  });

  await step('fetchUserInfo (sub must match the ID token)', async () => {
    const info = await client.fetchUserInfo(pub, tokens.access_token, userId);
    assert.equal(info.sub, userId);
    assert.equal(info.preferred_username, username);
    assert.equal(info.email, userEmail);
  });

  await step('refreshTokenGrant rotates the refresh token', async () => {
    refreshed = await client.refreshTokenGrant(pub, tokens.refresh_token);
    assert.ok(refreshed.refresh_token?.startsWith('wrt_'), 'no new refresh token');
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    if (refreshed.id_token) {
      // openid-client checked it against the first ID token (iss, sub, aud).
      assert.equal(refreshed.claims().sub, userId);
      idToken = refreshed.id_token;
    }
  });

  await step('tokenIntrospection by a confidential client: active', async () => {
    const r = await client.tokenIntrospection(conf, refreshed.access_token);
    assert.equal(r.active, true);
    assert.equal(r.sub, userId);
    assert.equal(r.client_id, codeClientId);
    assert.equal(r.iss, issuer.href);
    assert.ok(r.scope.split(' ').includes('openid'), `scope ${r.scope}`);
  });

  await step('tokenRevocation of the access token; introspection says inactive', async () => {
    await client.tokenRevocation(pub, refreshed.access_token);
    const r = await client.tokenIntrospection(conf, refreshed.access_token);
    assert.deepEqual(r, { active: false });
  });

  await step('tokenRevocation of the refresh token; a further refresh is invalid_grant', async () => {
    await client.tokenRevocation(pub, refreshed.refresh_token);
    await refused(() => client.refreshTokenGrant(pub, refreshed.refresh_token), 'invalid_grant');
  });

  // A replayed code revokes what it issued (RFC 6749 section 4.1.2), so
  // this comes after the steps that use the first tokens.
  await step('the code replayed is invalid_grant and revokes its access token', async () => {
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, true);
    await refused(() => client.authorizationCodeGrant(pub, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
    }), 'invalid_grant');
    assert.deepEqual(await client.tokenIntrospection(conf, tokens.access_token), { active: false });
  });

  await step('pushed authorization request (buildAuthorizationUrlWithPAR), session reused', async () => {
    const v = client.randomPKCECodeVerifier();
    const s = client.randomState();
    const n = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(pub, {
      redirect_uri: redirectUri, scope: 'openid', state: s, nonce: n,
      code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256',
    });
    assert.ok(url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'));
    await page.goto(url.href);
    const cb = await landOn(redirectUri);
    const t = await client.authorizationCodeGrant(pub, cb, {
      pkceCodeVerifier: v, expectedState: s, expectedNonce: n, idTokenExpected: true,
    });
    assert.equal(t.claims().sub, userId);
    idToken = t.id_token;
  });

  await step('clientCredentialsGrant (client_secret_basic), introspected', async () => {
    const t = await client.clientCredentialsGrant(conf, { scope: 'api.read' });
    assert.equal(t.scope, 'api.read');
    assert.ok(t.expires_in > 0);
    assert.equal(t.refresh_token, undefined, 'client_credentials answered a refresh token');
    const r = await client.tokenIntrospection(conf, t.access_token);
    assert.equal(r.active, true);
    assert.equal(r.client_id, confId);
    assert.equal(r.sub, confId);
  });

  await step('clientCredentialsGrant with private_key_jwt (ES256 assertion)', async () => {
    const t = await client.clientCredentialsGrant(pkjwt, { scope: 'api.read' });
    const r = await client.tokenIntrospection(pkjwt, t.access_token);
    assert.equal(r.active, true);
    assert.equal(r.client_id, pkjwtId);
  });

  await step('a wrong client secret is invalid_client', async () => {
    const bad = await client.discovery(issuer, confId, undefined,
      client.ClientSecretBasic(confSecret + 'x'), insecure);
    await refused(() => client.clientCredentialsGrant(bad, { scope: 'api.read' }), 'invalid_client');
  });

  // RP-initiated logout: the discovery document must name the endpoint.
  const endSession = pub.serverMetadata().end_session_endpoint;
  if (!endSession) {
    fail('discovery names end_session_endpoint', new Error('no end_session_endpoint'));
  }
  await step('buildEndSessionUrl with id_token_hint; the browser returns with state', async () => {
    const s = client.randomState();
    const url = client.buildEndSessionUrl(pub, {
      id_token_hint: idToken, post_logout_redirect_uri: postLogoutUri, state: s,
    });
    await page.goto(url.href);
    // A server may ask the user to confirm (RP-Initiated Logout section 2).
    if (!page.url().startsWith(postLogoutUri)) {
      const confirm = page.locator('form button[type=submit], form input[type=submit]').first();
      if (await confirm.count()) await confirm.click();
    }
    const back = await landOn(postLogoutUri);
    assert.equal(back.searchParams.get('state'), s);
  });

  await step('after logout, prompt=none is login_required', async () => {
    const s = client.randomState();
    const v = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(pub, {
      redirect_uri: redirectUri, scope: 'openid', prompt: 'none', state: s,
      code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    const cb = await landOn(redirectUri);
    await refused(() => client.authorizationCodeGrant(pub, cb, {
      pkceCodeVerifier: v, expectedState: s,
    }), 'login_required');
  });
}
