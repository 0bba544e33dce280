// Ward's hosted pages in headless Chromium, against a running local
// process: register, verify the email with the code from the development
// outbox, fail and then succeed at signing in, check the session cookie
// with POST /sessions/validate, recover the password through the emailed
// link, find the old session revoked, and sign out. e2e/browser_test.go
// starts Ward and runs this with WARD_URL and WARD_TOKEN (a system
// administrator's bearer token).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const base = mustEnv('WARD_URL');
const adminToken = mustEnv('WARD_TOKEN');
const tenantName = 'shop' + Date.now().toString(36);
const email = 'pat.browser@example.com';
const firstPassword = 'copper-lantern-meadow-81';
const secondPassword = 'silver-orchard-compass-27';
const sessionCookie = 'ward_session'; // plain http: no __Host- prefix

let browser, context, page, tenantId, sessionToken;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

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

// newestEmail returns the newest outbox email of kind to our address.
async function newestEmail(kind) {
  const r = await fetch(`${base}/_ward/outbox?tenant=${tenantId}`, {
    headers: { Authorization: `Bearer ${adminToken}` },
  });
  assert.equal(r.status, 200);
  const records = await r.json(); // newest first
  const rec = records.find((m) => m.Kind === kind && m.Email && m.Email.To.includes(email));
  assert.ok(rec, `no ${kind} email to ${email} in the outbox: ${JSON.stringify(records)}`);
  return rec.Email.Text;
}

async function validate(token) {
  const r = await fetch(`${base}/sessions/validate`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200);
  return r.json();
}

// landedSignedIn checks that the sign-in just submitted ended on the
// signed-in page, and says where it ended otherwise.
async function landedSignedIn() {
  await page.waitForLoadState('load');
  const where = `${page.url()}: ${await page.title()}\n${await page.locator('main').innerText()}`;
  assert.match(page.url(), new RegExp(`/t/${tenantName}/signed-in$`), where);
  assert.match(await page.locator('main').innerText(), /You are signed in to The Shop\./);
}

before(async () => {
  const made = await gql(
    'mutation($n: String!) { createTenant(input: {name: $n, displayName: "The Shop"}) { id } }',
    { n: tenantName });
  tenantId = made.createTenant.id;
  await gql('mutation($id: ID!) { updateTenant(input: {id: $id, registration: OPEN}) { id } }',
    { id: tenantId });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ javaScriptEnabled: false });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
});

test('registering leads to the code form', async () => {
  await page.goto(`${base}/t/${tenantName}/register`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.title(), /^Create an account – The Shop$/);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(firstPassword);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/verify-email\?verificationId=/);
});

test('the emailed code verifies the address', async () => {
  const text = await newestEmail('verify-email');
  const code = text.match(/\b(\d{6})\b/)?.[1];
  assert.ok(code, `no code in: ${text}`);

  await page.getByLabel('Code').fill(code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  const field = page.locator('#code');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');

  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Your email address is verified.').waitFor();
});

test('a wrong password is an error on the password field', async () => {
  await page.goto(`${base}/t/${tenantName}/login`);
  await page.getByLabel('Username or email').fill(email);
  await page.getByLabel('Password').fill('not-the-right-password-at-all');
  await page.getByRole('button', { name: 'Sign in' }).click();

  assert.match(await page.title(), /^Error: Sign in/);
  const pw = page.locator('#password');
  assert.equal(await pw.getAttribute('aria-invalid'), 'true');
  const described = (await pw.getAttribute('aria-describedby')).split(' ');
  assert.ok(described.includes('password-error'));
  const said = (await page.locator('#password-error').textContent()).replace(/\s+/g, ' ').trim();
  assert.equal(said, 'Error: Wrong username or password.');
  const focused = await page.evaluate(() => document.activeElement?.id ?? '');
  assert.equal(focused, 'error-summary', 'the error summary is not focused');
  const cookies = await context.cookies();
  assert.ok(!cookies.some((c) => c.name === sessionCookie), 'a failed sign-in set a session');
});

test('signing in sets the session cookie, which validates', async () => {
  await page.goto(`${base}/t/${tenantName}/login?return_to=` +
    encodeURIComponent(`/t/${tenantName}/signed-in`));
  // The flow is at the password step now, or a new one asks for both.
  if (await page.locator('#username').count()) {
    await page.getByLabel('Username or email').fill(email);
  }
  await page.getByLabel('Password').fill(firstPassword);
  await page.locator('button[type=submit]').first().click();
  await landedSignedIn();

  const cookie = (await context.cookies()).find((c) => c.name === sessionCookie);
  assert.ok(cookie, 'no session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
  sessionToken = cookie.value;

  const v = await validate(sessionToken);
  assert.equal(v.active, true);
  assert.equal(v.tenant, tenantId);
  assert.deepEqual(v.amr, ['pwd']);
});

test('password recovery through the pages', async () => {
  await page.goto(`${base}/t/${tenantName}/recover`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByText('If an account uses that address').waitFor();

  const text = await newestEmail('reset-password');
  const link = text.match(/https?:\/\/\S+\/account\/reset-password\?\S+/)?.[0];
  assert.ok(link, `no reset link in: ${text}`);
  await page.goto(link);
  await page.waitForURL(new RegExp(`/t/${tenantName}/reset\\?token=`));
  await page.getByLabel('New password').fill(secondPassword);
  await page.getByRole('button', { name: 'Change my password' }).click();
  await page.getByText('Your password is changed.').waitFor();
});

test('the reset ended the old session and the new password signs in', async () => {
  assert.ok(sessionToken, 'no session from the sign-in test');
  assert.equal((await validate(sessionToken)).active, false);

  await page.goto(`${base}/t/${tenantName}/login?restart=1`);
  await page.getByLabel('Username or email').fill(email);
  await page.getByLabel('Password').fill(secondPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await landedSignedIn();
  const cookie = (await context.cookies()).find((c) => c.name === sessionCookie);
  assert.notEqual(cookie.value, sessionToken);
  assert.equal((await validate(cookie.value)).active, true);
});

test('signing out asks first, then ends the session and clears the cookie', async () => {
  const before = (await context.cookies()).find((c) => c.name === sessionCookie);
  assert.ok(before, 'not signed in');
  assert.equal((await validate(before.value)).active, true);

  await page.goto(`${base}/t/${tenantName}/logout`);
  assert.match(await page.title(), /^Sign out – The Shop$/);
  // The page alone changes nothing.
  assert.equal((await validate(before.value)).active, true);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(new RegExp(`/t/${tenantName}/login$`));
  assert.ok(!(await context.cookies()).some((c) => c.name === sessionCookie),
    'the session cookie is still there');
  assert.equal((await validate(before.value)).active, false);

  // The landing page now sends the browser to sign in.
  await page.goto(`${base}/t/${tenantName}/signed-in`);
  await page.waitForURL(new RegExp(`/t/${tenantName}/login$`));
});
