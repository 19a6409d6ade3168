// Helpers for the browser tests: Debian's Chromium through playwright-core, the base URL of the
// server under test, a basic accessibility check, and screenshots of failing pages.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Debian's Chromium; playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env.YIWANG_CHROMIUM || '/usr/bin/chromium';

/**
 * Flags for Chromium on these machines: headless, as root (no sandbox), no GPU, and none of the
 * background connections that this machine's closed network would refuse.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where failing tests leave screenshots (and the page's HTML); run.mjs prints it. */
export function artifactsDir() {
  return process.env.YIWANG_E2E_ARTIFACTS || join(tmpdir(), 'yiwang-e2e');
}

/** Base URL of the server under test, without a trailing slash (set by run.mjs). */
export function baseUrl() {
  const base = process.env.YIWANG_BASE_URL;
  if (!base) throw new Error('YIWANG_BASE_URL is not set: run the browser tests through tests/e2e/run.mjs');
  return base.replace(/\/+$/, '');
}

/** Absolute URL of a path on the server under test. */
export function url(path = '/') {
  return new URL(path, `${baseUrl()}/`).href;
}

/**
 * Launches Debian's Chromium. Each launch gets a fresh, temporary profile (playwright creates
 * and removes it); for a profile that must persist across pages use launchPersistent().
 */
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    ...options,
  });
}

/**
 * A persistent context on a fresh user-data dir, removed again by close().
 * Returns the BrowserContext (pages: context.pages(), context.newPage()).
 */
export async function launchPersistent(options = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'yiwang-e2e-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    locale: 'zh-CN',
    ...options,
  });
  const close = context.close.bind(context);
  context.close = async (...args) => {
    try {
      await close(...args);
    } finally {
      await rm(userDataDir, { recursive: true, force: true });
    }
  };
  return context;
}

function fileName(name) {
  return String(name).replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 120) || 'page';
}

/** Saves a full-page screenshot and the page's HTML to artifactsDir(); returns the PNG path. */
export async function saveScreenshot(page, name) {
  const dir = artifactsDir();
  await mkdir(dir, { recursive: true });
  const base = join(dir, fileName(name));
  try {
    await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 10_000 });
    await writeFile(`${base}.html`, await page.content());
    return `${base}.png`;
  } catch (err) {
    return `(no screenshot: ${err.message})`;
  }
}

/**
 * Runs fn(page, context) in a new browser context; if fn throws, saves a screenshot named after
 * the test before passing the error on. The context is always closed.
 *
 *   await withPage(t, browser, { javaScriptEnabled: false }, async (page) => { ... });
 */
export async function withPage(t, browser, contextOptions, fn) {
  if (typeof contextOptions === 'function') [fn, contextOptions] = [contextOptions, {}];
  const context = await browser.newContext({ locale: 'zh-CN', ...contextOptions });
  const page = await context.newPage();
  try {
    return await fn(page, context);
  } catch (err) {
    const where = await saveScreenshot(page, t?.name ?? 'failure');
    t?.diagnostic?.(`screenshot: ${where} (url: ${page.url()})`);
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

/**
 * Basic accessibility check of the current page. Returns a list of problems (empty = fine):
 * <html lang> set, exactly one <h1>, every <img> has alt, every form control has a label
 * (<label for>, a wrapping <label>, aria-label or aria-labelledby, with non-empty text).
 */
export async function checkA11y(page) {
  return page.evaluate(() => {
    const problems = [];
    const text = (el) => (el?.textContent ?? '').trim();
    const describe = (el) => {
      const attrs = ['id', 'name', 'type'].filter((a) => el.hasAttribute(a)).map((a) => `${a}="${el.getAttribute(a)}"`);
      return `<${el.tagName.toLowerCase()}${attrs.length ? ' ' + attrs.join(' ') : ''}>`;
    };

    if (!(document.documentElement.getAttribute('lang') ?? '').trim()) problems.push('<html> has no lang attribute');

    const h1 = document.querySelectorAll('h1').length;
    if (h1 !== 1) problems.push(`expected exactly one <h1>, found ${h1}`);

    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) problems.push(`<img src="${img.getAttribute('src') ?? ''}"> has no alt`);
    }

    const skip = new Set(['hidden', 'submit', 'button', 'reset']);
    for (const el of document.querySelectorAll('input, select, textarea')) {
      const type = (el.getAttribute('type') ?? '').toLowerCase();
      if (el.tagName === 'INPUT' && skip.has(type)) continue;
      if (el.tagName === 'INPUT' && type === 'image') {
        if (!(el.getAttribute('alt') ?? '').trim()) problems.push(`${describe(el)} has no alt`);
        continue;
      }
      const byLabel = [...(el.labels ?? [])].some((l) => text(l));
      const byAria = !!(el.getAttribute('aria-label') ?? '').trim();
      const byIds = (el.getAttribute('aria-labelledby') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .some((id) => text(document.getElementById(id)));
      if (!byLabel && !byAria && !byIds) problems.push(`form control ${describe(el)} has no label`);
    }
    return problems;
  });
}

/** The password of every demo account. */
export const DEMO_PASSWORD = 'Yiwang@2026';

/**
 * Signs a demo account in through the form at /admin/login (works without JavaScript) and
 * returns the staff member's name as the page header shows it. Sign-in is rate limited to 10
 * POSTs a minute per client address for the whole server, which every test file shares: sign
 * in once per role per file and keep using that browser context.
 */
export async function signIn(page, username, password = DEMO_PASSWORD) {
  if (!new URL(page.url(), 'http://x/').pathname.startsWith('/admin/login')) await page.goto(url('/admin/login'));
  const form = page.locator('form[action="/admin/login"]');
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), form.locator('button[type="submit"]').click()]);
  const path = new URL(page.url()).pathname;
  if (res?.status() !== 200 || !path.startsWith('/admin') || path.startsWith('/admin/login')) {
    const alert = await page.locator('[role="alert"]').allInnerTexts().catch(() => []);
    throw new Error(`sign-in as ${username} failed: status ${res?.status()} at ${page.url()} ${alert.join(' ')}`.trim());
  }
  return (await page.locator('form.signout span').first().innerText()).trim();
}

/**
 * The newest 6-digit code the server under test sent to `phone` through its development
 * notifier (<data dir>/outbox/messages.jsonl, JSON lines with `to` and `text`). Needs the data
 * dir: run.mjs exports YIWANG_E2E_DATA_DIR when it starts the server; with --base-url set it
 * yourself. Returns null when there is none.
 */
export async function devOutboxCode(phone) {
  const dir = process.env.YIWANG_E2E_DATA_DIR;
  if (!dir) throw new Error('YIWANG_E2E_DATA_DIR is not set: cannot read the dev outbox');
  const text = await readFile(join(dir, 'outbox', 'messages.jsonl'), 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean).reverse();
  for (const line of lines) {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m.to === phone) return (String(m.text).match(/\d{6}/) ?? [null])[0];
  }
  return null;
}

/**
 * A fresh, well-formed 居民身份证号码 (GB 11643: region 430104, a birth date in 1990, a random
 * sequence number, the MOD 11-2 check character), unlikely to be registered already.
 */
export function randomIdNumber() {
  const seq = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
  const day = String(1 + Math.floor(Math.random() * 28)).padStart(2, '0');
  const body = `4301041990${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}${day}${seq}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** Clicks (or presses) and waits for the navigation it causes; returns the response. */
export async function go(page, action) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return res;
}

/**
 * Registers a new citizen in `page` (a random ID number and mobile number, the SMS code from the
 * dev outbox) and has the window clerk in `clerk` (signed in here as yl.window) verify them at
 * the counter (L3). Returns { id, phone, password }.
 */
export async function registerCitizen(page, clerk, name) {
  const assert = (await import('node:assert/strict')).default;
  const password = 'Citizen#2026';
  const id = randomIdNumber();
  const phone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  await page.goto(url('/account/register'));
  await page.getByLabel('姓名').fill(name);
  await page.getByLabel('居民身份证号码').fill(id);
  await page.getByLabel('手机号码').fill(phone);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('确认密码').fill(password);
  await go(page, () => page.getByLabel('确认密码').press('Enter'));
  const code = await devOutboxCode(phone);
  assert.match(code ?? '', /^\d{6}$/);
  await page.getByLabel('短信验证码').fill(code);
  await go(page, () => page.getByLabel('短信验证码').press('Enter'));
  assert.match(page.url(), /done=registered/);
  await clerk.goto(url('/admin/login'));
  await signIn(clerk, 'yl.window');
  await clerk.goto(url('/admin/identity/verify'));
  await clerk.locator('input[name="id_number"]').fill(id);
  await go(clerk, () => clerk.locator('form[action="/admin/identity/verify"] button[type="submit"]').click());
  return { id, phone, password };
}

/** Uploads `pdf` to every required material (marked 是) of the citizen's case page. */
export async function uploadRequired(page, name, pdf) {
  const assert = (await import('node:assert/strict')).default;
  const rows = page.locator('#materials tbody tr');
  const n = await rows.count();
  for (let i = 0; i < n; i++) {
    const required = (await rows.nth(i).locator('td').nth(1).innerText()).trim() === '是';
    if (!required) continue;
    await page.getByLabel('材料', { exact: true }).selectOption({ index: i });
    await page.getByLabel(/^文件/).setInputFiles({ name, mimeType: 'application/pdf', buffer: pdf });
    const res = await go(page, () => page.getByRole('button', { name: '上传' }).click());
    assert.equal(res?.status(), 200, `upload of material ${i}`);
    assert.match(await page.locator('[role="status"]').innerText(), /材料已上传/);
  }
}

/**
 * Approves every open task in the signed-in approver's inbox (claiming each first), or only
 * those of case number `caseNo` when given.
 */
export async function approveAll(approver, caseNo) {
  for (let i = 0; i < 10; i++) {
    await approver.goto(url('/admin/inbox'));
    const open = approver.locator('section[aria-labelledby="h-open"] tbody tr', caseNo ? { hasText: caseNo } : {}).locator('a');
    if ((await open.count()) === 0) break;
    await go(approver, () => open.first().click());
    const claim = approver.getByRole('button', { name: '签收' });
    if ((await claim.count()) > 0) await go(approver, () => claim.click());
    await approver.getByLabel('通过').check();
    await approver.getByLabel('意见（不予批准时必填）').fill('符合条件，同意。');
    await go(approver, () => approver.getByRole('button', { name: '提交' }).click());
  }
}
