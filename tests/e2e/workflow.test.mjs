// The approver's inbox (待办) in a browser without JavaScript, at phone width: the demo
// approver finds the three demo cases, opens one, sees its diagram with the active step marked,
// claims it and approves it with an opinion typed by label and sent with the keyboard, then
// finds it under 已办 and the next step (审核) marked on the case's diagram. One sign-in (the
// admin sign-in rate limit is shared by every test file).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, launchBrowser, saveScreenshot, signIn, url, withPage } from './lib.mjs';

const PHONE_VIEW = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function overflow(page) {
  return page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
}

test('an approver claims and approves a case from the inbox, without JavaScript at phone width', async (t) => {
  await withPage(t, browser, { ...PHONE_VIEW, javaScriptEnabled: false }, async (page) => {
    await page.goto(url('/admin/login'));
    await signIn(page, 'yl.scjg.approver');

    // The header links to the inbox.
    const link = page.locator('header a[href="/admin/inbox"]');
    assert.equal(await link.count(), 1, 'the header links to 待办');
    await Promise.all([page.waitForURL(/\/admin\/inbox$/), link.click()]);
    assert.deepEqual(await checkA11y(page), [], 'problems on the inbox');
    assert.ok((await overflow(page)) <= 1, 'the inbox scrolls sideways at 390 px');
    const rows = page.locator('section[aria-labelledby="h-open"] tbody tr');
    assert.equal(await rows.count(), 3, 'three demo cases wait');
    const first = rows.first().locator('a');
    const caseNo = (await first.innerText()).trim();
    assert.match(caseNo, /^DEMO-\d{8}-\d{4}$/);

    // The task page: facts, the diagram with the active step, the claim button.
    await Promise.all([page.waitForURL(/\/admin\/tasks\//), first.click()]);
    assert.deepEqual(await checkA11y(page), [], 'problems on the task page');
    const svg = page.locator('.svg-wrap svg[role="img"]');
    assert.equal(await svg.count(), 1, 'the case is drawn');
    assert.ok((await overflow(page)) <= 1, 'the task page scrolls sideways at 390 px');
    assert.equal(await page.locator('.svg-wrap [data-element-id="Task_Handle"].active').count(), 1, '承办 is marked active');
    const claim = page.getByRole('button', { name: '签收' });
    await Promise.all([page.waitForURL(/done=claimed/), claim.click()]);
    assert.match(await page.locator('[role="status"]').innerText(), /已签收/);

    // Approve with an opinion, by label and keyboard.
    await page.getByLabel('通过').check();
    const opinion = page.getByLabel('意见（不予批准时必填）');
    await opinion.fill('材料齐全，同意。');
    await opinion.press('Tab');
    await Promise.all([page.waitForURL(/\/admin\/inbox\?done=completed/), page.keyboard.press('Enter')]);
    assert.match(await page.locator('[role="status"]').innerText(), /已办理/);
    const done = page.locator('section[aria-labelledby="h-done"] tbody tr', { hasText: caseNo });
    assert.equal(await done.count(), 1, 'the case is under 已办');
    assert.match(await done.innerText(), /材料齐全，同意。/);

    // The case's next step is 审核, marked active on its diagram.
    const next = page.locator('section[aria-labelledby="h-open"] tbody tr', { hasText: caseNo });
    assert.match(await next.innerText(), /审核/);
    await Promise.all([page.waitForURL(/\/admin\/tasks\//), next.locator('a').click()]);
    assert.equal(await page.locator('.svg-wrap [data-element-id="Task_Review"].active').count(), 1, '审核 is marked active');
    assert.equal(await page.locator('.svg-wrap [data-element-id="Task_Handle"].completed').count(), 1, '承办 is marked done');
    assert.match(await page.locator('section[aria-labelledby="h-history"]').innerText(), /材料齐全，同意。/);
    await saveScreenshot(page, 'workflow-task');
  });
});
