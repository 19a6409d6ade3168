// A case from application to delivery in a browser without JavaScript, the citizen at phone
// width: a citizen registers (SMS code from the dev outbox), is verified in person at a window
// (L3), finds 失业保险金申领, applies online — the item's form by label, each material uploaded
// — and submits; the window asks for a correction, the citizen uploads again and resubmits, the
// window accepts, the approver approves every step, the window records delivery, and the
// citizen sees the decision and downloads it as a PDF. Two staff sign-ins (the admin sign-in
// rate limit is shared by every test file).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { approveAll, checkA11y, go, launchBrowser, registerCitizen, saveScreenshot, signIn, uploadRequired, url } from './lib.mjs';

const PHONE_VIEW = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const PDF = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

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


test('a citizen applies, corrects, is accepted, approved and served; without JavaScript', async (t) => {
  const citizenCtx = await browser.newContext({ ...PHONE_VIEW, javaScriptEnabled: false });
  const windowCtx = await browser.newContext({ javaScriptEnabled: false });
  const approverCtx = await browser.newContext({ javaScriptEnabled: false });
  t.after(async () => {
    await citizenCtx.close();
    await windowCtx.close();
    await approverCtx.close();
  });
  const citizen = await citizenCtx.newPage();
  const clerk = await windowCtx.newPage();
  const approver = await approverCtx.newPage();
  try {
    // Register and confirm the phone; the window verifies the person at the counter (L3).
    await registerCitizen(citizen, clerk, '测试申请人');

    // Find the item, apply online.
    await citizen.goto(url('/items?q=失业保险金申领&region=430104'));
    await go(citizen, () => citizen.locator('ol.results a').first().click());
    const apply = citizen.locator('#apply');
    assert.equal(await apply.count(), 1, 'the guide offers 在线办理');
    await go(citizen, () => apply.click());
    await go(citizen, () => citizen.getByRole('button', { name: '开始申请' }).click());
    assert.match(citizen.url(), /\/account\/cases\/[^/]+\?done=started$/);
    const casePath = new URL(citizen.url()).pathname;
    assert.deepEqual(await checkA11y(citizen), [], 'problems on the case page');
    assert.ok((await overflow(citizen)) <= 1, 'the case page scrolls sideways at 390 px');

    // The form by label: the browser itself refuses a future date (max from the item's rule;
    // the server refuses it too), then a real one is saved.
    await citizen.getByLabel(/失业前工作单位/).fill('长沙某科技有限公司');
    const ended = citizen.getByLabel(/终止或解除劳动合同日期/);
    await ended.fill('2099-01-01');
    assert.equal(await ended.evaluate((el) => el.validity.valid), false, 'a future date is invalid in the browser');
    await ended.fill('2026-10-31');
    await citizen.getByLabel(/失业原因/).selectOption('contract_end');
    const res = await go(citizen, () => citizen.getByRole('button', { name: '保存', exact: true }).click());
    assert.equal(res?.status(), 200);
    assert.match(await citizen.locator('[role="status"]').innerText(), /申请表已保存/);

    await uploadRequired(citizen, '证明.pdf', PDF);
    const submitted = await go(citizen, () => citizen.getByRole('button', { name: '提交申请' }).click());
    assert.equal(submitted?.status(), 200);
    const caseNo = (await citizen.locator('#case-no').innerText()).trim();
    assert.match(caseNo, /^[0-9A-Z]{31}\d{12}$/, 'a 43-character case number');

    // The window asks for a correction of the first material.
    await clerk.goto(url('/admin/cases'));
    await go(clerk, () => clerk.locator('#queue a', { hasText: caseNo }).click());
    assert.deepEqual(await checkA11y(clerk), [], 'problems on the window case page');
    const first = clerk.locator('form[action$="/correct"] input[type="checkbox"]').first();
    await first.check();
    const slot = await first.getAttribute('value');
    await clerk.locator(`#problem_${slot}`).fill('扫描件不清晰，请重新上传');
    await go(clerk, () => clerk.getByRole('button', { name: '一次性告知补正' }).click());
    assert.match(await clerk.locator('#case-state').innerText(), /待补正/);

    // The citizen sees what to correct, uploads again, resubmits.
    await citizen.goto(url(casePath));
    assert.match(await citizen.locator('#corrections').innerText(), /扫描件不清晰/);
    await citizen.getByLabel('材料', { exact: true }).selectOption(slot);
    await citizen.getByLabel(/^文件/).setInputFiles({ name: '清晰件.pdf', mimeType: 'application/pdf', buffer: PDF });
    await go(citizen, () => citizen.getByRole('button', { name: '上传' }).click());
    await go(citizen, () => citizen.getByRole('button', { name: '提交补正材料' }).click());
    assert.match(await citizen.locator('#case-state').innerText(), /待受理/);

    // 受理.
    await clerk.reload();
    await go(clerk, () => clerk.locator('#accept').click());
    assert.match(await clerk.locator('#case-state').innerText(), /办理中/);

    // The approver approves every step.
    await approver.goto(url('/admin/login'));
    await signIn(approver, 'yl.rsj.approver');
    await approveAll(approver);

    // Delivery at the window.
    await clerk.reload();
    assert.match(await clerk.locator('#case-state').innerText(), /准予/);
    await go(clerk, () => clerk.getByRole('button', { name: '确认送达' }).click());
    assert.match(await clerk.locator('#case-state').innerText(), /已送达/);

    // The citizen: the decision as a PDF, the timeline.
    await citizen.goto(url(casePath));
    assert.match(await citizen.locator('#case-state').innerText(), /已送达/);
    const timeline = await citizen.locator('#records').innerText();
    for (const step of ['申请', '补正告知', '受理', '批准', '办结', '送达']) assert.ok(timeline.includes(step), `timeline has ${step}`);
    const decision = citizen.locator('#documents a', { hasText: '准予许可决定书' });
    assert.equal(await decision.count(), 1, 'the decision is listed');
    const pdf = await citizen.request.get(url(await decision.getAttribute('href')));
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    assert.ok((await pdf.body()).subarray(0, 5).equals(Buffer.from('%PDF-')));
    await saveScreenshot(citizen, 'case-delivered');
  } catch (e) {
    await saveScreenshot(citizen, 'case-citizen-failure').catch(() => {});
    await saveScreenshot(clerk, 'case-window-failure').catch(() => {});
    await saveScreenshot(approver, 'case-approver-failure').catch(() => {});
    throw e;
  }
});
