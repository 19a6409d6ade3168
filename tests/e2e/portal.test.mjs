// The citizen's portal: keyboard-only search, facets that narrow and count right, home-page
// themes that never lead to nothing, a guide that prints on A4 without the site's chrome,
// English that sticks, phone width and accessibility, and readable errors for bad filters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { checkA11y, launchBrowser, url, withPage } from './lib.mjs';

const run = promisify(execFile);
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
const ITEM_LINK = /^\/items\/[0-9A-Z]{31}$/;

let browser;
let dir;
before(async () => {
  browser = await launchBrowser();
  dir = await mkdtemp(join(tmpdir(), 'yiwang-e2e-portal-'));
});
after(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function api(path) {
  const res = await fetch(url(path));
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

async function clickAndWait(page, locator) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return res;
}

/** The result count the page states, e.g. 共找到 12 个事项. */
async function shownTotal(page) {
  return Number((await page.locator('[role="status"] strong').first().innerText()).trim());
}

/** The item links of a results page, in order. */
async function resultLinks(page) {
  return page.locator('ol.results > li h2 a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), name: a.textContent.trim() })));
}

/** Describes the focused element. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el ? { tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.textContent ?? '').trim(), href: el.getAttribute('href') } : null;
  });
}

/** The code of the first 食品经营许可 guide (the answer to 开饭店). */
async function foodLicenceCode() {
  const { items } = await api(`/api/v1/items?q=${encodeURIComponent('食品经营许可')}`);
  const it = items.find((i) => i.name === '食品经营许可');
  assert.ok(it, 'a published 食品经营许可');
  return it.code;
}

test('keyboard only: Tab reaches the skip link and the search field; 开饭店 + Enter lists 食品经营许可 first', async (t) => {
  await withPage(t, browser, async (page) => {
    await page.goto(url('/'));
    await page.keyboard.press('Tab');
    const first = await focused(page);
    assert.equal(first?.tag, 'a', `the first Tab stop is a link: ${JSON.stringify(first)}`);
    assert.equal(first.href, '#main');
    assert.equal(first.text, '跳到主要内容');
    assert.ok(await page.locator('a.skip').isVisible(), 'the skip link is visible when focused');

    // Following the skip link, the next Tab stop is the search field in the main content.
    await page.keyboard.press('Enter');
    // Following a fragment link updates the URL after the key event returns: wait for it.
    await page.waitForURL((u) => u.hash === '#main', { timeout: 5000 });
    let stop = null;
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      stop = await focused(page);
      if (stop?.id === 'q') break;
    }
    assert.equal(stop?.id, 'q', `Tab after the skip link reaches the search field: ${JSON.stringify(stop)}`);
    assert.equal(await page.locator('#q').getAttribute('name'), 'q');

    await page.keyboard.type('开饭店');
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).searchParams.get('q'), '开饭店');
    const links = await resultLinks(page);
    assert.ok(links.length > 0, 'results for 开饭店');
    assert.equal(links[0].name, '食品经营许可', `the first result: ${links.map((l) => l.name).slice(0, 5).join('、')}`);
    assert.match(links[0].href, ITEM_LINK);
  });
});

test('keyboard only: from the home page, Tab without the skip link also reaches the search field', async (t) => {
  await withPage(t, browser, async (page) => {
    await page.goto(url('/'));
    const stops = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      stops.push(f?.id || f?.text || f?.tag);
      if (f?.id === 'q') break;
    }
    assert.equal(stops.at(-1), 'q', `Tab order from the top: ${stops.join(' → ')}`);
    assert.equal(stops[0], '跳到主要内容');
  });
});

test('facets: a region link under 养老 narrows the results and the count matches the list', async (t) => {
  await withPage(t, browser, { javaScriptEnabled: false }, async (page) => {
    const res = await page.goto(url(`/items?q=${encodeURIComponent('养老')}`));
    assert.equal(res.status(), 200);
    const all = await shownTotal(page);
    assert.ok(all > 0, 'results for 养老');

    const group = page.locator('aside.facets fieldset', { has: page.locator('legend', { hasText: '区划' }) });
    const links = group.locator('a');
    assert.ok((await links.count()) >= 2, 'several regions to choose from');
    // The facet whose count is the smallest, so that it narrows and fits one page.
    const facets = await links.evaluateAll((as) =>
      as.map((a) => ({ href: a.getAttribute('href'), label: a.textContent.trim(), count: Number(a.nextElementSibling?.textContent.trim()) })),
    );
    const chosen = facets.reduce((a, b) => (b.count < a.count ? b : a));
    assert.ok(chosen.count > 0 && chosen.count < all, `the facet ${chosen.label} (${chosen.count}) narrows ${all}`);
    const region = new URL(chosen.href, url('/')).searchParams.get('region');
    assert.ok(region, `the facet link sets region: ${chosen.href}`);

    const narrowed = await clickAndWait(page, group.locator(`a[href="${chosen.href}"]`));
    assert.equal(narrowed.status(), 200);
    const at = new URL(page.url());
    assert.equal(at.searchParams.get('region'), region);
    assert.equal(at.searchParams.get('q'), '养老', 'the query is kept');
    const n = await shownTotal(page);
    assert.equal(n, chosen.count, 'the count shown is the facet’s count');
    assert.ok(n < all, 'fewer results than before');
    const shown = await resultLinks(page);
    if (n <= 20) {
      assert.equal(shown.length, n, 'every result is listed on the one page');
      assert.match(await page.locator('nav.pager').innerText(), /第\s*1\s*页／共\s*1\s*页/);
    }
    // The active filter is marked and can be removed.
    const active = page.locator(`aside.facets a[aria-current="true"]`, { hasText: chosen.label });
    assert.equal(await active.count(), 1, 'the chosen region is marked in the facets');
    // The same filter through the API lists the same items.
    const body = await api(`/api/v1/items?q=${encodeURIComponent('养老')}&region=${region}&per_page=100`);
    assert.equal(body.total, n);
    assert.deepEqual(
      shown.map((l) => l.href),
      body.items.slice(0, shown.length).map((i) => `/items/${i.code}`),
      'the page and the API list the same items in the same order',
    );
    for (const it of body.items) assert.equal(it.region.code, region, `${it.name} is in region ${region}`);
    assert.deepEqual(await checkA11y(page), []);
  });
});

test('home page: every theme tile leads to items, with the right count; no empty theme is shown', async (t) => {
  await withPage(t, browser, { javaScriptEnabled: false }, async (page) => {
    const res = await page.goto(url('/'));
    assert.equal(res.status(), 200);
    const tiles = await page.locator('ul.tiles a').evaluateAll((as) =>
      as.map((a) => ({ href: a.getAttribute('href'), count: a.querySelector('.count')?.textContent.trim() ?? '' })),
    );
    assert.ok(tiles.length > 0, 'the home page shows themes');
    const shown = new Map();
    for (const tile of tiles) {
      const key = new URL(tile.href, url('/')).searchParams.get('theme');
      assert.ok(key, `a theme tile links to a theme: ${tile.href}`);
      assert.ok(!shown.has(key), `theme ${key} is shown once`);
      shown.set(key, Number(tile.count.match(/\d+/)?.[0] ?? NaN));
    }
    const themes = await api('/api/v1/themes');
    const known = new Set(themes.map((th) => th.key));
    for (const key of shown.keys()) assert.ok(known.has(key), `tile theme ${key} is in /api/v1/themes`);
    const wrong = [];
    for (const th of themes) {
      const { total } = await api(`/api/v1/items?theme=${encodeURIComponent(th.key)}&per_page=1`);
      if (total === 0 && shown.has(th.key)) wrong.push(`${th.key} (${th.name}) has no items but is shown`);
      if (total > 0 && !shown.has(th.key)) wrong.push(`${th.key} (${th.name}) has ${total} items but is not shown`);
      if (total > 0 && shown.has(th.key) && shown.get(th.key) !== total) wrong.push(`${th.key} (${th.name}) tile says ${shown.get(th.key)}, API total ${total}`);
    }
    assert.deepEqual(wrong, []);
  });
});

test('a guide page prints on A4 with the guide and without the site header', async (t) => {
  const code = await foodLicenceCode();
  await withPage(t, browser, async (page) => {
    const res = await page.goto(url(`/items/${code}`));
    assert.equal(res.status(), 200);
    const name = (await page.locator('h1').innerText()).trim();
    const pdf = join(dir, 'guide.pdf');
    await page.pdf({ path: pdf, format: 'A4', printBackground: false });
    const { stdout: text } = await run('pdftotext', ['-enc', 'UTF-8', pdf, '-']);
    const flat = text.replace(/\s+/g, '');
    for (const want of ['申请材料', '设定依据', '承诺办结时限', name, code]) {
      assert.ok(flat.includes(want.replace(/\s+/g, '')), `the printed guide contains ${want}`);
    }
    for (const chrome of ['个人办事', '法人办事', '跳到主要内容', '指南目录']) {
      assert.ok(!flat.includes(chrome), `the printed guide does not contain the site's ${chrome}`);
    }
    const { stdout: info } = await run('pdfinfo', [pdf]);
    const size = info.match(/Page size:\s+([\d.]+) x ([\d.]+) pts/);
    assert.ok(size, info);
    assert.equal(Math.floor(Number(size[1])), 595, info);
    assert.ok([842, 841].includes(Math.floor(Number(size[2]))), info);
    assert.match(info, /\(A4\)/);
  });
});

test('English: ?lang=en switches the portal to English and the choice sticks without the parameter', async (t) => {
  await withPage(t, browser, { javaScriptEnabled: false }, async (page, context) => {
    let res = await page.goto(url('/items?lang=en'));
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Services');
    assert.equal((await page.locator('label[for="q"]').innerText()).trim(), 'Search services');
    assert.match(await page.locator('header nav').innerText(), /Individuals/);
    assert.match(await page.locator('[role="status"]').first().innerText(), /^Found \d+ services/);
    const cookie = (await context.cookies()).find((c) => c.name === 'lang');
    assert.equal(cookie?.value, 'en', 'the choice is kept in a cookie');

    // The next page, linked without ?lang=en, is in English too.
    const first = page.locator('ol.results > li h2 a').first();
    assert.match(await first.getAttribute('href'), ITEM_LINK);
    res = await clickAndWait(page, first);
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).searchParams.get('lang'), null);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal((await page.locator('#h-mat').innerText()).trim(), 'Materials');
    assert.equal((await page.locator('#h-basis').innerText()).trim(), 'Legal basis');
    res = await page.goto(url('/'));
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal((await page.locator('label[for="q"]').innerText()).trim(), 'Search services');
    assert.deepEqual(await checkA11y(page), []);

    // And back to Chinese through the language link, on the same search.
    await page.goto(url('/items?q=%E5%85%BB%E8%80%81&object=person'));
    res = await clickAndWait(page, page.locator('header nav a', { hasText: '中文' }));
    assert.equal(res.status(), 200);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    assert.equal(new URL(page.url()).pathname, '/items');
    assert.equal(new URL(page.url()).searchParams.get('q'), '养老');
    assert.equal(new URL(page.url()).searchParams.get('object'), 'person');
    await page.goto(url('/items'));
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    assert.equal((await page.locator('h1').innerText()).trim(), '办事事项');
  });
});

test('phone 390x844: no horizontal scroll and accessible home, results and guide pages', async (t) => {
  const code = await foodLicenceCode();
  await withPage(t, browser, { ...PHONE, javaScriptEnabled: false }, async (page) => {
    const problems = {};
    for (const path of ['/', `/items?q=${encodeURIComponent('营业执照')}`, `/items/${code}`, '/items?region=12']) {
      const res = await page.goto(url(path));
      assert.ok(res.status() < 500, `GET ${path}: ${res.status()}`);
      const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > 391 && getComputedStyle(el).position !== 'fixed')
          .filter((el) => !el.closest('.table-wrap'))
          .slice(0, 5)
          .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">`),
      );
      const found = [...(await checkA11y(page))];
      if (width > 391) found.push(`scrollWidth ${width} > 390: ${wide.join(' ')}`);
      if (found.length) problems[path] = found;
    }
    assert.deepEqual(problems, {}, 'problems by page at 390x844');
  });
});

test('a bad filter gives a readable Chinese error page (400), and a problem document from the API', async (t) => {
  await withPage(t, browser, { javaScriptEnabled: false }, async (page) => {
    const res = await page.goto(url('/items?region=12'));
    assert.equal(res.status(), 400, 'GET /items?region=12');
    assert.match(res.headers()['content-type'] ?? '', /^text\/html/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    const main = await page.locator('main').innerText();
    assert.match(main, /行政区划代码/, `says what is wrong: ${main}`);
    assert.match(main, /400/);
    assert.doesNotMatch(main, /panic|backtrace|Internal Server Error/i);
    assert.ok(await page.locator('main a[href="/"]').count(), 'a way back home');
    assert.deepEqual(await checkA11y(page), []);
  });

  const res = await fetch(url('/api/v1/items?region=12'));
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, 400);
  assert.ok(body.title && body.detail, 'title and detail');
  assert.ok(Array.isArray(body.errors), 'an errors list');
  const region = body.errors.find((e) => e.field === 'region');
  assert.ok(region, `an error for region: ${JSON.stringify(body.errors)}`);
  assert.match(region.message_zh, /[\u4e00-\u9fff]/);
});
