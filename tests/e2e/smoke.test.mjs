// Smoke test of the public site: health, home page, search without JavaScript, phone width.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, launchBrowser, url, withPage } from './lib.mjs';

const QUERY = '营业执照';
// A link to an item page: /items/ + a 31-character 实施编码 (GB/T 39046).
const ITEM_PATH = /^\/items\/[0-9A-Z]{31}(?:\/|$)/;
const RESULTS_URL = /\/(?:items|search)\?/;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Types the query into the home page's search field and presses Enter; returns the links' paths. */
async function searchByTyping(page) {
  await page.goto(url('/'));
  const q = page.locator('form input[name="q"]').first();
  await q.click();
  await q.pressSequentially(QUERY);
  await Promise.all([page.waitForURL(RESULTS_URL, { timeout: 15_000 }), q.press('Enter')]);
  const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  return hrefs.map((h) => new URL(h, page.url())).filter((u) => u.origin === new URL(page.url()).origin).map((u) => u.pathname);
}

test('GET /healthz answers 200', async () => {
  const res = await fetch(url('/healthz'));
  assert.equal(res.status, 200);
});

test('home page: lang zh-CN, labelled search field q, accessible', async (t) => {
  await withPage(t, browser, async (page) => {
    const res = await page.goto(url('/'));
    assert.equal(res?.status(), 200, 'GET / status');
    const problems = [];
    const lang = await page.locator('html').getAttribute('lang');
    if (lang !== 'zh-CN') problems.push(`<html lang="${lang}">, expected "zh-CN"`);
    const q = page.locator('form input[name="q"]');
    if ((await q.count()) === 0) {
      problems.push('no <form> with an <input name="q">');
    } else {
      const label = await q.first().evaluate(
        (el) =>
          [...(el.labels ?? [])].map((l) => l.textContent.trim()).join(' ') ||
          (el.getAttribute('aria-label') ?? '').trim() ||
          (el.getAttribute('aria-labelledby') ?? '')
            .split(/\s+/)
            .map((id) => document.getElementById(id)?.textContent.trim() ?? '')
            .join(' ')
            .trim(),
      );
      if (!label) problems.push('the search field q has no label');
    }
    problems.push(...(await checkA11y(page)));
    assert.deepEqual(problems, [], 'problems on the home page');
  });
});

test(`search for ${QUERY} works without JavaScript`, async (t) => {
  await withPage(t, browser, { javaScriptEnabled: false }, async (page) => {
    const paths = await searchByTyping(page);
    assert.match(page.url(), RESULTS_URL);
    const items = paths.filter((p) => ITEM_PATH.test(p));
    assert.ok(items.length >= 1, `at least one link to /items/<31-char code>; links seen: ${paths.slice(0, 20).join(' ')}`);
  });
});

test('results page has no horizontal scroll at 390x844', async (t) => {
  await withPage(t, browser, { ...PHONE, javaScriptEnabled: false }, async (page) => {
    await searchByTyping(page);
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= 391, `scrollWidth ${width} > 391 on ${page.url()}`);
  });
});
