// The item life cycle across two roles, without JavaScript: the 岳麓区 market-regulation manager
// implements a catalogue entry, a vague material is refused by the quality checks, the guide is
// fixed (one material added with the add-rows button) and submitted; the 长沙 reviewer returns it
// (a blank reason is refused first), the manager resubmits, the reviewer approves and the guide
// is public on the portal. Then a change (变更) of the promised time limit goes the same way and
// the comparison of v1 and v2 shows it; the item's history names who did what. A POST without
// the CSRF token is refused and changes nothing.
//
// The steps share two browser contexts (one sign-in per role) and run in order; after a failed
// step the later ones are skipped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, launchBrowser, saveScreenshot, signIn, url } from './lib.mjs';

const MANAGER = 'yl.scjg.manager'; // 岳麓区市场监督管理局
const REVIEWER = 'cs.reviewer'; // 长沙市政务服务中心
const REGION = '430104'; // 岳麓区
const VAGUE = '其他材料';
const ADDED = { name: '委托代理人授权委托书（浏览器测试）', original: '1', copies: '0', form: '1', source: '申请人自备' };
const RETURN_REASON = '请补充委托办理时需要提交的授权委托书。';

let browser;
/** The manager's and the reviewer's contexts and pages (JavaScript disabled). */
const manager = { context: null, page: null, name: '' };
const reviewer = { context: null, page: null, name: '' };
/** What the journey learns on the way. */
const item = { code: '', name: '', basicCode: '', material0: '', promisedBefore: 0, promisedAfter: 0 };
/** checkA11y problems of every admin page visited, by page. */
const a11y = new Map();
let failedStep = null;

before(async () => {
  browser = await launchBrowser();
  for (const who of [manager, reviewer]) {
    who.context = await browser.newContext({ locale: 'zh-CN', javaScriptEnabled: false });
    who.page = await who.context.newPage();
  }
});
after(async () => {
  await manager.context?.close().catch(() => {});
  await reviewer.context?.close().catch(() => {});
  await browser?.close();
});

/** One step of the journey; skipped when an earlier step failed; screenshots both pages on failure. */
function step(name, fn) {
  test(name, async (t) => {
    if (failedStep) {
      t.skip(`an earlier step failed: ${failedStep}`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failedStep = name;
      for (const [who, label] of [[manager, 'manager'], [reviewer, 'reviewer']]) {
        if (!who.page || who.page.url() === 'about:blank') continue;
        const where = await saveScreenshot(who.page, `${name} (${label})`);
        t.diagnostic(`${label}: ${where} (url: ${who.page.url()})`);
      }
      throw err;
    }
  });
}

/** Clicks what submits a form or follows a link; returns the final response of the navigation. */
async function clickAndWait(page, locator) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return res;
}

async function goto(page, path) {
  const res = await page.goto(url(path));
  assert.equal(res?.status(), 200, `GET ${path}`);
  return res;
}

async function noteA11y(page, label) {
  const problems = await checkA11y(page);
  if (problems.length) a11y.set(`${label} (${new URL(page.url()).pathname})`, problems);
}

/** The text of the page's `role="status"` notice of a `?done=` redirect. */
async function notice(page) {
  return (await page.locator('.notice[role="status"]').first().innerText()).trim();
}

/** The item page's history rows as { actor, action, version, comment }. */
async function history(page) {
  const rows = page.locator('section[aria-labelledby="h-history"] tbody tr');
  const out = [];
  for (const row of await rows.all()) {
    const cells = (await row.locator('td').allInnerTexts()).map((s) => s.trim());
    out.push({ actor: cells[1], action: cells[3], version: cells[4], comment: cells[5] });
  }
  return out;
}

/** The 最新版本 fact of the item page, e.g. "v1 草稿". */
async function latestVersion(page) {
  const dd = page.locator('dl.facts dt:text-is("最新版本") + dd');
  return (await dd.innerText()).replace(/\s+/g, ' ').trim();
}

/** Opens the reviewer's queue and the review page of the item's version v. */
async function openReview(v) {
  const page = reviewer.page;
  await goto(page, '/admin');
  let res = await clickAndWait(page, page.locator('header nav a', { hasText: '审核' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/admin/review');
  const row = page.locator('tbody tr', { has: page.locator(`code:text-is("${item.code}")`) });
  assert.equal(await row.count(), 1, `the queue lists ${item.code} once`);
  assert.match(await row.innerText(), new RegExp(`v${v}`));
  res = await clickAndWait(page, row.locator('a', { hasText: '审核' }).last());
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/admin/review/${item.code}/${v}`);
  assert.match(await page.locator('h1').innerText(), new RegExp(`${item.name}.*v${v}`));
}

/** On the review page: every quality check passed. */
async function assertAllChecksPassed(page) {
  const checks = page.locator('section[aria-labelledby="h-quality"] ul.checks > li');
  const n = await checks.count();
  assert.ok(n >= 5, `the quality report lists the checks (found ${n})`);
  const texts = (await checks.allInnerTexts()).map((s) => s.trim());
  const failed = texts.filter((s) => !s.startsWith('✓'));
  assert.deepEqual(failed, [], 'every quality check passed');
  assert.match(await page.locator('section[aria-labelledby="h-quality"]').innerText(), /全部检查通过/);
}

step('the manager signs in and implements a catalogue entry not yet implemented', async () => {
  const page = manager.page;
  await goto(page, '/admin/login');
  await noteA11y(page, 'sign-in');
  manager.name = await signIn(page, MANAGER);
  assert.ok(manager.name, 'the signed-in manager is named in the header');

  await goto(page, '/admin/items');
  await noteA11y(page, 'item list');
  const res = await clickAndWait(page, page.locator('main a', { hasText: '新增事项' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/admin/items/new');
  await noteA11y(page, 'new item');

  const row = page.locator('tbody tr', { has: page.locator('button', { hasText: '实施此事项' }) }).first();
  assert.equal(await row.count(), 1, 'at least one catalogue entry is not implemented yet');
  item.name = (await row.locator('th').innerText()).trim();
  item.basicCode = (await row.locator('code').innerText()).trim();
  const created = await clickAndWait(page, row.locator('button', { hasText: '实施此事项' }));
  assert.equal(created.status(), 200);
  const at = new URL(page.url());
  assert.match(at.pathname, /^\/admin\/items\/[0-9A-Z]{31}$/);
  assert.equal(at.searchParams.get('done'), 'created');
  item.code = at.pathname.split('/').pop();
  assert.ok(item.code.endsWith(item.basicCode), `实施编码 ${item.code} ends with the basic code ${item.basicCode}`);
  assert.equal((await page.locator('h1').innerText()).trim(), item.name);
  assert.match(await notice(page), /已创建事项/);
  assert.match(await latestVersion(page), /v1\s*草稿/);
  await noteA11y(page, 'item page');

  // The entry is now implemented: the catalogue links to the item instead.
  await goto(page, '/admin/items/new');
  const again = page.locator('tbody tr', { has: page.locator(`code:text-is("${item.basicCode}")`) });
  assert.equal(await again.locator('button').count(), 0, 'no second 实施此事项 button for the entry');
  assert.equal(await again.locator(`a[href="/admin/items/${item.code}"]`).count(), 1);
});

step('a vague material (其他材料) is refused with 422 and the failed check is listed', async () => {
  const page = manager.page;
  await goto(page, `/admin/items/${item.code}`);
  let res = await clickAndWait(page, page.locator('a.button', { hasText: '编辑' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/admin/items/${item.code}/versions/1/edit`);
  await noteA11y(page, 'editor');

  const name0 = page.getByLabel('材料名称', { exact: true }).first();
  item.material0 = await name0.inputValue();
  assert.ok(item.material0, 'the draft starts with the catalogue entry’s materials');
  await name0.fill(VAGUE);
  res = await clickAndWait(page, page.locator('button[value="submit"]').first());
  assert.equal(res.status(), 422, 'submitting a guide with a vague material');
  const alert = page.locator('[role="alert"]').first();
  assert.match(await alert.innerText(), /未通过质量检查，未提交审核/);
  const failed = page.locator('ul.checks > li', { has: page.locator('.tag.bad') });
  const failedTexts = (await failed.allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  assert.equal(failedTexts.length, 1, `exactly one failed check: ${failedTexts.join(' | ')}`);
  assert.match(failedTexts[0], /未通过/);
  assert.match(failedTexts[0], /无模糊表述/);
  assert.ok(failedTexts[0].includes(VAGUE), `the failed check quotes the material: ${failedTexts[0]}`);
  // The form keeps what was typed.
  assert.equal(await page.getByLabel('材料名称', { exact: true }).first().inputValue(), VAGUE);
  await noteA11y(page, 'editor after a refused submission');

  // Nothing was submitted: the item is still a draft.
  await goto(page, `/admin/items/${item.code}`);
  assert.match(await latestVersion(page), /v1\s*草稿/);
  assert.equal(await page.locator('a.button', { hasText: '编辑' }).count(), 1);
});

step('the manager fixes the material, adds a material row, saves and submits', async () => {
  const page = manager.page;
  let res = await clickAndWait(page, page.locator('a.button', { hasText: '编辑' }));
  assert.equal(res.status(), 200);
  await page.getByLabel('材料名称', { exact: true }).first().fill(item.material0);

  const materials = page.locator('section[aria-labelledby="h-mat"] fieldset.row');
  const before = await materials.count();
  res = await clickAndWait(page, page.locator('section[aria-labelledby="h-mat"] button[value="add_rows"]'));
  assert.equal(res.status(), 200, 'add_rows answers the form again');
  assert.match(await page.locator('.notice[role="status"]').innerText(), /增加空行/);
  const rows = await materials.count();
  assert.ok(rows > before, `more material rows after 增加空行 (${before} -> ${rows})`);
  // What was typed before adding rows is still there, not saved yet.
  assert.equal(await page.getByLabel('材料名称', { exact: true }).first().inputValue(), item.material0);

  const last = materials.last();
  assert.equal(await last.getByLabel('材料名称', { exact: true }).inputValue(), '', 'the added row is empty');
  await last.getByLabel('材料名称', { exact: true }).fill(ADDED.name);
  await last.getByLabel('原件份数', { exact: true }).fill(ADDED.original);
  await last.getByLabel('复印件份数', { exact: true }).fill(ADDED.copies);
  await last.getByLabel('材料形式', { exact: true }).selectOption(ADDED.form);
  await last.getByLabel('必要材料', { exact: true }).check();
  await last.getByLabel('来源渠道', { exact: true }).fill(ADDED.source);
  await noteA11y(page, 'editor with added rows');

  res = await clickAndWait(page, page.locator('button[value="save"]').first());
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/admin/items/${item.code}`);
  assert.equal(new URL(page.url()).searchParams.get('done'), 'saved');
  assert.match(await notice(page), /草稿已保存/);
  assert.match(await page.locator('section[aria-labelledby="h-quality"]').innerText(), /全部检查通过/);

  // The saved version has the added material.
  res = await clickAndWait(page, page.locator('dl.facts a', { hasText: 'v1' }).last());
  assert.equal(res.status(), 200);
  assert.ok((await page.locator('main').innerText()).includes(ADDED.name), 'v1 lists the added material');
  await noteA11y(page, 'version page');

  await goto(page, `/admin/items/${item.code}`);
  res = await clickAndWait(page, page.locator('button', { hasText: '提交审核' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).searchParams.get('done'), 'submitted');
  assert.match(await notice(page), /已提交审核/);
  assert.match(await latestVersion(page), /v1\s*待审核/);
  assert.equal(await page.locator('a.button', { hasText: '编辑' }).count(), 0, 'a submitted version cannot be edited');
});

step('the reviewer sees every check passed; a blank reason is refused; the item is returned', async () => {
  const page = reviewer.page;
  await goto(page, '/admin/login');
  reviewer.name = await signIn(page, REVIEWER);
  assert.ok(reviewer.name);
  await openReview(1);
  await noteA11y(page, 'review page');
  await assertAllChecksPassed(page);
  assert.ok((await page.locator('main').innerText()).includes(ADDED.name), 'the reviewer sees the added material');

  // An empty reason: the browser does not even send the form (the field is required) ...
  const reason = page.locator('#reason');
  await page.locator('button', { hasText: '退回' }).click();
  assert.equal(await page.locator('#reason:invalid').count(), 1, 'the empty reason is invalid');
  assert.equal(new URL(page.url()).pathname, `/admin/review/${item.code}/1`);
  // ... and blanks only are refused by the server, with the field marked.
  await reason.fill('   ');
  let res = await clickAndWait(page, page.locator('button', { hasText: '退回' }));
  assert.equal(res.status(), 400, 'returning with a blank reason');
  assert.equal(await page.locator('#reason').getAttribute('aria-invalid'), 'true');
  const described = (await page.locator('#reason').getAttribute('aria-describedby')) ?? '';
  assert.ok(described, 'the reason field points to its error message');
  const message = (await page.locator(`#${described.split(/\s+/)[0]}`).innerText()).trim();
  assert.match(message, /[\u4e00-\u9fff]/, `a Chinese error message: ${message}`);
  await noteA11y(page, 'review page with a refused return');
  // An empty reason sent anyway (as a browser without form validation would) is refused the same way.
  const csrf = await page.locator('form[action$="/return"] input[name="csrf"]').inputValue();
  const empty = await page.request.post(url(`/admin/review/${item.code}/1/return`), { form: { csrf, reason: '' }, maxRedirects: 0 });
  assert.equal(empty.status(), 400, 'returning with an empty reason');
  assert.match(await empty.text(), /<textarea id="reason"[^>]*aria-invalid="true"/);

  // Still waiting for review.
  await goto(page, '/admin/review');
  assert.equal(await page.locator('tbody tr', { has: page.locator(`code:text-is("${item.code}")`) }).count(), 1);

  await openReview(1);
  await page.locator('#reason').fill(RETURN_REASON);
  res = await clickAndWait(page, page.locator('button', { hasText: '退回' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/admin/review');
  assert.equal(new URL(page.url()).searchParams.get('done'), 'returned');
  assert.match(await notice(page), /已退回修改/);
  assert.equal(await page.locator(`code:text-is("${item.code}")`).count(), 0, 'no longer in the queue');
  await noteA11y(page, 'review queue');
});

step('the manager sees the reason on the item page and resubmits; the reviewer approves', async () => {
  const page = manager.page;
  await goto(page, `/admin/items/${item.code}`);
  assert.match(await latestVersion(page), /v1\s*已退回/);
  const versions = await page.locator('section[aria-labelledby="h-versions"] tbody').innerText();
  assert.ok(versions.includes(RETURN_REASON), 'the versions table shows the reason');
  assert.ok(versions.includes(reviewer.name), 'and who returned it');
  let res = await clickAndWait(page, page.locator('button', { hasText: '提交审核' }));
  assert.equal(res.status(), 200);
  assert.match(await notice(page), /已提交审核/);
  assert.match(await latestVersion(page), /v1\s*待审核/);

  await openReview(1);
  await assertAllChecksPassed(reviewer.page);
  res = await clickAndWait(reviewer.page, reviewer.page.locator('button', { hasText: '审核通过' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(reviewer.page.url()).searchParams.get('done'), 'approved');
  assert.match(await notice(reviewer.page), /审核通过，版本已发布/);

  await goto(page, `/admin/items/${item.code}`);
  assert.match(await latestVersion(page), /v1\s*已发布/);
  const facts = await page.locator('dl.facts').innerText();
  assert.match(facts, /在用/, 'the item is in force');
});

step('the published guide is on the portal: found first by its exact name in 岳麓区, with the added material', async () => {
  // The reviewer's context, like a citizen's: the portal needs no session.
  const page = reviewer.page;
  await goto(page, '/');
  await page.locator('#q').fill(item.name);
  let res = await clickAndWait(page, page.locator('form[role="search"] button[type="submit"]'));
  assert.equal(res.status(), 200);
  const facet = page.locator(`aside.facets a[href*="region=${REGION}"]`);
  assert.equal(await facet.count(), 1, `a facet link for region ${REGION}`);
  res = await clickAndWait(page, facet);
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).searchParams.get('region'), REGION);
  assert.equal(new URL(page.url()).searchParams.get('q'), item.name);
  const first = page.locator('ol.results > li h2 a').first();
  assert.equal(await first.getAttribute('href'), `/items/${item.code}`, 'the new item is the first result');
  assert.equal((await first.innerText()).trim(), item.name);

  res = await clickAndWait(page, first);
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/items/${item.code}`);
  assert.equal((await page.locator('h1').innerText()).trim(), item.name);
  const materials = await page.locator('#materials').innerText();
  assert.ok(materials.includes(ADDED.name), 'the guide lists the added material');
  assert.ok(materials.includes(item.material0), 'and the original first material');
  assert.ok(!materials.includes(VAGUE), 'and not the vague one');
  const limits = await page.locator('#limits').innerText();
  const m = limits.match(/承诺办结时限\s*(即办|(\d+)\s*个工作日)/);
  assert.ok(m, `the promised limit is shown: ${limits}`);
  item.promisedBefore = m[2] ? Number(m[2]) : 0;
});

step('a POST without the CSRF token is refused (403) and changes nothing', async () => {
  const page = manager.page;
  for (const form of [{}, { csrf: 'not-the-token' }]) {
    const res = await page.request.post(url(`/admin/items/${item.code}/change`), { form, maxRedirects: 0 });
    assert.equal(res.status(), 403, `POST /change with ${JSON.stringify(form)}`);
    assert.match(await res.text(), /[\u4e00-\u9fff]/, 'a readable page');
  }
  // A form tampered with in the page (JavaScript in this one check only, through the driver).
  await goto(page, `/admin/items/${item.code}`);
  await page.locator('form[action$="/change"] input[name="csrf"]').evaluate((el) => el.remove());
  const res = await clickAndWait(page, page.locator('button', { hasText: '发起变更' }));
  assert.equal(res.status(), 403, 'the tampered 发起变更 form');

  await goto(page, `/admin/items/${item.code}`);
  assert.match(await latestVersion(page), /v1\s*已发布/, 'still v1, no change started');
  assert.ok(!(await history(page)).some((e) => e.action === '发起变更'), 'no 发起变更 in the history');
});

step('the manager changes the promised time limit (变更); the reviewer approves it', async () => {
  const page = manager.page;
  await goto(page, `/admin/items/${item.code}`);
  let res = await clickAndWait(page, page.locator('button', { hasText: '发起变更' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).searchParams.get('done'), 'change_started');
  assert.match(await notice(page), /已发起变更/);
  assert.match(await latestVersion(page), /v2\s*草稿/);

  res = await clickAndWait(page, page.locator('a.button', { hasText: '编辑' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, `/admin/items/${item.code}/versions/2/edit`);
  const statutory = Number(await page.getByLabel('法定办结时限（工作日）', { exact: true }).inputValue());
  const promised = Number(await page.getByLabel('承诺办结时限（工作日）', { exact: true }).inputValue());
  assert.equal(promised, item.promisedBefore, 'v2 starts from the published guide');
  item.promisedAfter = newPromised(statutory, promised);
  await page.getByLabel('承诺办结时限（工作日）', { exact: true }).fill(String(item.promisedAfter));
  res = await clickAndWait(page, page.locator('button[value="submit"]').first());
  assert.equal(res.status(), 200, 'save and submit');
  assert.equal(new URL(page.url()).searchParams.get('done'), 'submitted');
  assert.match(await latestVersion(page), /v2\s*待审核/);

  await openReview(2);
  await assertAllChecksPassed(reviewer.page);
  const diff = await reviewer.page.locator('section[aria-labelledby="h-diff"]').innerText();
  assert.match(diff, /办结时限/, 'the reviewer sees what changed');
  res = await clickAndWait(reviewer.page, reviewer.page.locator('button', { hasText: '审核通过' }));
  assert.equal(res.status(), 200);
  assert.match(await notice(reviewer.page), /审核通过，版本已发布/);

  await goto(page, `/admin/items/${item.code}`);
  assert.match(await latestVersion(page), /v2\s*已发布/);
});

step('the comparison v1 → v2 shows the changed 办结时限 row', async () => {
  const page = manager.page;
  let res = await clickAndWait(page, page.locator('section[aria-labelledby="h-versions"] a', { hasText: 'v1 → v2' }));
  assert.equal(res.status(), 200);
  const at = new URL(page.url());
  assert.equal(at.pathname, `/admin/items/${item.code}/diff`);
  assert.equal(at.searchParams.get('from'), '1');
  assert.equal(at.searchParams.get('to'), '2');
  await noteA11y(page, 'diff page');
  res = await page.goto(url(`/admin/items/${item.code}/diff?from=1&to=2`));
  assert.equal(res.status(), 200);

  const group = page.locator('table.diff tbody', { has: page.locator('th[scope="rowgroup"]', { hasText: '办结时限' }) });
  assert.equal(await group.count(), 1, 'the 办结时限 section is shown as changed');
  const rows = (await group.locator('tr').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  const shown = (n) => (n === 0 ? '(即办|0)' : `${n}`);
  const changed = rows.filter(
    (r) => /承诺/.test(r) && new RegExp(shown(item.promisedBefore)).test(r) && new RegExp(shown(item.promisedAfter)).test(r),
  );
  assert.equal(changed.length, 1, `one row shows the promised limit ${item.promisedBefore} → ${item.promisedAfter}: ${rows.join(' | ')}`);
  // Nothing else changed.
  const changedSections = await page.locator('table.diff th[scope="rowgroup"]').allInnerTexts();
  assert.deepEqual(changedSections.map((s) => s.trim()), ['办结时限']);

  // And the portal shows the new limit.
  const guide = await page.goto(url(`/items/${item.code}`));
  assert.equal(guide.status(), 200);
  const limits = await page.locator('#limits').innerText();
  assert.match(limits, new RegExp(`承诺办结时限\\s*${item.promisedAfter === 0 ? '即办' : `${item.promisedAfter}\\s*个工作日`}`));
});

step('the item history lists every step with the actors’ names', async () => {
  const page = manager.page;
  await goto(page, `/admin/items/${item.code}`);
  const events = await history(page);
  const find = (action, actor) => events.filter((e) => e.action === action && e.actor === actor);
  const table = events.map((e) => `${e.action}/${e.actor}/${e.version}`).join(' | ');
  assert.equal(find('新增', manager.name).length, 1, `新增 by ${manager.name}: ${table}`);
  assert.equal(find('提交审核', manager.name).length, 3, `提交审核 by ${manager.name} (twice v1, once v2): ${table}`);
  const returned = find('退回', reviewer.name);
  assert.equal(returned.length, 1, `退回 by ${reviewer.name}: ${table}`);
  assert.equal(returned[0].comment, RETURN_REASON, 'the return carries its reason');
  assert.equal(find('审核通过并发布', reviewer.name).length, 2, `审核通过并发布 by ${reviewer.name} (v1, v2): ${table}`);
  assert.equal(find('发起变更', manager.name).length, 1, `发起变更 by ${manager.name}: ${table}`);
});

step('every admin page visited passes checkA11y', async () => {
  assert.deepEqual(Object.fromEntries(a11y), {}, 'accessibility problems by page');
});

/** A promised limit different from p that the quality checks accept with statutory limit s. */
function newPromised(s, p) {
  if (s === 0) return p + 1; // no statutory limit: any promise
  if (p > 1) return p - 1;
  if (p + 1 <= s) return p + 1;
  return 0; // s = p = 1: same day
}
