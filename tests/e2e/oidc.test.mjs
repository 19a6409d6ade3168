// Single sign-on in a real browser without JavaScript: a department's system (a relying party
// registered with `yiwang oidc add-client`) sends a citizen to the platform's authorization
// endpoint; the citizen signs in on the platform's form and comes back to the system with a
// code, which the system exchanges for tokens (client_secret_basic, PKCE S256). The relying
// party's callback is a small HTTP server of the test's own on a loopback port (browsers follow
// redirects without letting request interception see them).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD, checkA11y, launchBrowser, url, withPage } from './lib.mjs';

let browser;
let rp;
let CALLBACK;
const callbacks = [];
before(async () => {
  browser = await launchBrowser();
  rp = createServer((req, res) => {
    // Only the callback counts (the browser also asks this origin for /favicon.ico).
    if (req.url.startsWith('/cb?')) callbacks.push(`http://127.0.0.1:${rp.address().port}${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><html lang="zh-CN"><title>业务系统</title><h1>业务系统</h1></html>');
  });
  await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
  CALLBACK = `http://127.0.0.1:${rp.address().port}/cb`;
});
after(async () => {
  await browser?.close();
  rp?.close();
});

function b64url(buf) {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function registerClient() {
  const bin = process.env.YIWANG_BIN;
  const dataDir = process.env.YIWANG_E2E_DATA_DIR;
  assert.ok(bin && dataDir, 'run through tests/e2e/run.mjs (it exports YIWANG_BIN and YIWANG_E2E_DATA_DIR)');
  const out = execFileSync(
    bin,
    ['oidc', 'add-client', '--data-dir', dataDir, '--name', '浏览器测试系统', '--redirect-uri', CALLBACK, '--scope', 'openid profile phone'],
    { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'error' } },
  );
  const id = /client_id:\s*(\S+)/.exec(out)?.[1];
  const secret = /client_secret:\s*(\S+)/.exec(out)?.[1];
  assert.ok(id && secret, out);
  return { id, secret };
}

test('single sign-on: a citizen signs in on the platform and the department system gets tokens', async (t) => {
  const client = registerClient();
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const authorize = url(
    `/oidc/authorize?response_type=code&client_id=${client.id}&redirect_uri=${encodeURIComponent(CALLBACK)}` +
      `&scope=${encodeURIComponent('openid profile phone')}&state=st-1&nonce=n-1` +
      `&code_challenge=${challenge}&code_challenge_method=S256`,
  );
  await withPage(t, browser, { javaScriptEnabled: false }, async (page) => {
    // Not signed in: the platform asks the citizen to sign in first.
    await page.goto(authorize);
    assert.match(new URL(page.url()).pathname, /^\/account\/login/);
    assert.deepEqual(await checkA11y(page), []);
    await page.locator('input[name="account"]').fill('13800000002');
    await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await page.locator('input[name="password"]').press('Enter');
    await page.waitForURL((u) => u.href.startsWith(`${CALLBACK}?`), { timeout: 15000 });
    const callback = callbacks.at(-1);
    assert.ok(callback, 'the relying party was called back');
    const back = new URL(callback);
    assert.equal(back.searchParams.get('state'), 'st-1');
    const code = back.searchParams.get('code');
    assert.ok(code && code.length >= 32, callback);

    // The department system exchanges the code (server to server).
    const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64');
    const res = await fetch(url('/oidc/token'), {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }),
    });
    const tokens = await res.json();
    assert.equal(res.status, 200, JSON.stringify(tokens));
    assert.ok(tokens.id_token && tokens.access_token && tokens.refresh_token);
    const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString('utf8'));
    assert.equal(claims.nonce, 'n-1');
    assert.equal(claims.aud, client.id);
    assert.match(claims.sub, /^user:/);
    const info = await (await fetch(url('/oidc/userinfo'), { headers: { Authorization: `Bearer ${tokens.access_token}` } })).json();
    assert.equal(info.user_type, 'person');
    assert.equal(info.real_name_level, 2);
    assert.equal(info.phone_number, '138****0002');
    assert.deepEqual(info.enterprises, [], '王小明 acts for no enterprise');

    // The same code a second time is refused.
    const again = await fetch(url('/oidc/token'), {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }),
    });
    assert.equal(again.status, 400);
    assert.equal((await again.json()).error, 'invalid_grant');
  });
});
