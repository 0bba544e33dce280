// Second factors through Ward's hosted pages in headless Chromium (no
// JavaScript in the page), against a running local process. A tenant
// requires MFA: a user signs in with a password and must enrol an
// authenticator app, whose secret the test reads from the page and whose
// codes it computes itself (RFC 6238); signing in again asks for a code,
// refuses a wrong one and a replayed one, and takes the next. A second
// user enrols a code by email instead, read from the development outbox.
// e2e/browser_test.go starts Ward and runs this with WARD_URL and
// WARD_TOKEN (a system administrator's bearer token).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const base = mustEnv('WARD_URL');
const adminToken = mustEnv('WARD_TOKEN');
const tenantName = 'bank' + Date.now().toString(36);
const robin = { username: 'robin', email: 'robin.mfa@example.com', password: 'amber-quarry-lighthouse-53' };
const sam = { username: 'sam', email: 'sam.mfa@example.com', password: 'granite-willow-harbour-68' };
const sessionCookie = 'ward_session'; // plain http: no __Host- prefix

let browser, tenantId, totpSecret;
let lastStep = 0; // the last TOTP step Ward accepted from robin

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// ---- RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits), written here so
// that the test checks Ward against an implementation of its own.

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(s) {
  const clean = s.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0, value = 0;
  const out = [];
  for (const ch of clean) {
    const i = base32Alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// hotp is RFC 4226's HOTP of key (bytes) at counter, in digits digits.
function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', key).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / 30);
const totp = (secret, step) => hotp(base32Decode(secret), step);

// nextCode is the code of the earliest step after `after` that Ward
// accepts now (its own step or the next one), waiting for the clock when
// there is none yet: at most one step, 30 s.
async function nextCode(secret, after) {
  for (;;) {
    const step = Math.max(after + 1, currentStep());
    if (step <= currentStep() + 1) return { step, code: totp(secret, step) };
    await sleep(((step - 1) * 30 * 1000) - Date.now() + 50);
  }
}

// ---- Ward's APIs.

async function gql(query, variables) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// otpEmails are the outbox's one-time code emails to address, newest first.
async function otpEmails(address) {
  const r = await fetch(`${base}/_ward/outbox?tenant=${tenantId}`, {
    headers: { Authorization: `Bearer ${adminToken}` },
  });
  assert.equal(r.status, 200);
  const records = await r.json(); // newest first
  return records.filter((m) => m.Kind === 'otp-code' && m.Email && m.Email.To.includes(address));
}

function codeIn(email) {
  const code = email.Email.Text.match(/\b(\d{6})\b/)?.[1];
  assert.ok(code, `no code in: ${email.Email.Text}`);
  return code;
}

async function validate(token) {
  const r = await fetch(`${base}/sessions/validate`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200);
  return r.json();
}

// ---- The browser.

// signInWithPassword opens a fresh browser context (no cookies) and
// answers the first step of the sign-in as user.
async function signInWithPassword(user) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/t/${tenantName}/login`);
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return { context, page };
}

async function describe(page) {
  return `${page.url()}: ${await page.title()}\n${await page.locator('main').innerText()}`;
}

// landedSignedIn checks that the browser ended on the signed-in page and
// returns its session token.
async function landedSignedIn({ context, page }) {
  await page.waitForLoadState('load');
  assert.match(page.url(), new RegExp(`/t/${tenantName}/signed-in$`), await describe(page));
  assert.match(await page.locator('main').innerText(), /You are signed in to The Bank\./);
  const cookie = (await context.cookies()).find((c) => c.name === sessionCookie);
  assert.ok(cookie, 'no session cookie');
  return cookie.value;
}

// assertCodeRefused checks that the page shows the refusal of a code:
// on the code field, in the summary, and in the title.
async function assertCodeRefused(page) {
  assert.match(await page.title(), /^Error: Sign in/, await describe(page));
  const field = page.locator('#code');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const described = (await field.getAttribute('aria-describedby')).split(' ');
  assert.ok(described.includes('code-error'), `aria-describedby: ${described}`);
  const said = (await page.locator('#code-error').textContent()).replace(/\s+/g, ' ').trim();
  assert.equal(said, 'Error: Wrong or expired code.');
  const summary = page.locator('#error-summary');
  assert.equal(await summary.getAttribute('role'), 'alert');
  assert.equal(await summary.locator('a[href="#code"]').textContent(), 'Wrong or expired code.');
  const focused = await page.evaluate(() => document.activeElement?.id ?? '');
  assert.equal(focused, 'error-summary', 'the error summary is not focused');
}

async function submitCode(page, code, button = 'Verify') {
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: button }).click();
  await page.waitForLoadState('load');
}

before(async () => {
  const made = await gql(
    'mutation($n: String!) { createTenant(input: {name: $n, displayName: "The Bank"}) { id } }',
    { n: tenantName });
  tenantId = made.createTenant.id;
  const set = await gql(`mutation($id: ID!) { updateTenant(input: {id: $id,
      auth: {mfa: REQUIRED, factors: [TOTP, EMAIL]}}) { auth { mfa factors } } }`,
  { id: tenantId });
  assert.deepEqual(set.updateTenant.auth, { mfa: 'REQUIRED', factors: ['TOTP', 'EMAIL'] });
  for (const u of [robin, sam]) {
    await gql(`mutation($t: ID!, $u: String!, $e: String!, $p: String!) {
        createUser(input: {tenantId: $t, username: $u, email: $e, password: $p}) { id } }`,
    { t: tenantId, u: u.username, e: u.email, p: u.password });
  }

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

test('the test computes TOTP codes as RFC 6238 does', () => {
  // RFC 6238, appendix B: the SHA-1 key "12345678901234567890", 8 digits.
  const key = Buffer.from('12345678901234567890');
  assert.equal(hotp(key, Math.floor(59 / 30), 8), '94287082');
  assert.equal(hotp(key, Math.floor(1111111109 / 30), 8), '07081804');
  assert.equal(hotp(key, Math.floor(20000000000 / 30), 8), '65353130');
  // The same key in base32, as an enrolment page shows it.
  assert.equal(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');
});

test('a required second factor is enrolled with an authenticator app', async () => {
  const b = await signInWithPassword(robin);
  const { page } = b;
  assert.match(await page.locator('main').innerText(), /needs a second way to confirm it is you/,
    await describe(page));
  const app = page.getByLabel('Authenticator app');
  assert.equal(await app.isChecked(), true);
  assert.equal(await page.getByLabel('Code by email').count(), 1);
  await page.getByRole('button', { name: 'Set it up' }).click();
  await page.waitForLoadState('load');

  const qr = page.locator('img.qr');
  assert.equal(await qr.count(), 1, await describe(page));
  assert.equal(await qr.getAttribute('alt'), 'QR code to add The Bank to an authenticator app');
  assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
  const drawn = await qr.evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.equal(drawn, true, 'the QR code image did not load');
  totpSecret = (await page.locator('main code').textContent()).trim();
  assert.match(totpSecret, /^[A-Z2-7]{16,}=*$/);

  const { step, code } = await nextCode(totpSecret, lastStep);
  await submitCode(page, code, 'Confirm');
  const token = await landedSignedIn(b);
  lastStep = step;

  const v = await validate(token);
  assert.equal(v.active, true);
  assert.equal(v.tenant, tenantId);
  assert.equal(v.acr, '2');
  assert.ok(v.amr.includes('otp') && v.amr.includes('pwd'), `amr: ${v.amr}`);
  await b.context.close();
});

test('signing in again asks for the code and refuses a wrong one', async () => {
  assert.ok(totpSecret, 'no secret from the enrolment test');
  const b = await signInWithPassword(robin);
  const { page } = b;
  assert.match(await page.locator('main').innerText(),
    /Enter the code your authenticator app shows\./, await describe(page));

  // A code no step near now has.
  const near = new Set([-1, 0, 1, 2].map((d) => totp(totpSecret, currentStep() + d)));
  let wrong = 0;
  while (near.has(String(wrong).padStart(6, '0'))) wrong++;
  await submitCode(page, String(wrong).padStart(6, '0'));
  await assertCodeRefused(page);
  assert.ok(!(await b.context.cookies()).some((c) => c.name === sessionCookie),
    'a wrong code set a session');

  const { step, code } = await nextCode(totpSecret, lastStep);
  await submitCode(page, code);
  const token = await landedSignedIn(b);
  lastStep = step;
  const v = await validate(token);
  assert.equal(v.acr, '2');
  assert.ok(v.amr.includes('otp'), `amr: ${v.amr}`);
  await b.context.close();
});

test('a code used once is refused in another sign-in, and the next one works', async () => {
  assert.ok(lastStep > 0, 'no code was accepted before');
  const used = totp(totpSecret, lastStep);
  const b = await signInWithPassword(robin);
  const { page } = b;
  // Still inside the window Ward accepts a code in (its step and one
  // either side): a refusal now is for the replay, not for the clock.
  assert.ok(currentStep() - 1 <= lastStep, 'too slow: the used code has expired meanwhile');
  await submitCode(page, used);
  await assertCodeRefused(page);
  assert.ok(!(await b.context.cookies()).some((c) => c.name === sessionCookie),
    'a replayed code set a session');

  const { step, code } = await nextCode(totpSecret, lastStep);
  assert.notEqual(code, used);
  await submitCode(page, code);
  const token = await landedSignedIn(b);
  lastStep = step;
  assert.equal((await validate(token)).acr, '2');
  await b.context.close();
});

test('a code by email is enrolled and then asked for at sign-in', async () => {
  const b = await signInWithPassword(sam);
  let { page } = b;
  await page.getByLabel('Code by email').check();
  await page.getByRole('button', { name: 'Set it up' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('main').innerText(), /We sent a code to s•••@example\.com\./,
    await describe(page));
  assert.equal(await page.locator('img.qr').count(), 0);

  const sent = await otpEmails(sam.email);
  assert.equal(sent.length, 1, 'one code email after enrolling');
  await submitCode(page, codeIn(sent[0]), 'Confirm');
  let token = await landedSignedIn(b);
  let v = await validate(token);
  assert.equal(v.acr, '2');
  assert.ok(v.amr.includes('otp') && v.amr.includes('pwd'), `amr: ${v.amr}`);
  await b.context.close();

  // Signing in again: the only factor is challenged at once, with a new
  // code; the enrolment's code was spent.
  const again = await signInWithPassword(sam);
  page = again.page;
  assert.match(await page.locator('main').innerText(), /Enter the code we sent to s•••@example\.com\./,
    await describe(page));
  const now = await otpEmails(sam.email);
  assert.equal(now.length, 2, 'a new code email for the sign-in');
  await submitCode(page, codeIn(sent[0]) === codeIn(now[0]) ? '000000' : codeIn(sent[0]));
  await assertCodeRefused(page);

  await submitCode(page, codeIn(now[0]));
  token = await landedSignedIn(again);
  v = await validate(token);
  assert.equal(v.acr, '2');
  assert.ok(v.amr.includes('otp'), `amr: ${v.amr}`);

  // And signing out there ends that session.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(new RegExp(`/t/${tenantName}/login$`));
  assert.ok(!(await again.context.cookies()).some((c) => c.name === sessionCookie),
    'the session cookie is still there');
  assert.equal((await validate(token)).active, false);
  await again.context.close();
});
