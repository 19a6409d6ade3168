// An electronic licence from application to 亮证, without JavaScript, the applicant at phone
// width: the demo's 张伟 applies online for his enterprise (湖南湘江智能科技有限公司) for 食品经营
// 许可 of 岳麓区市场监督管理局, the window accepts, the approver approves every step; the licence
// is issued by the platform (signed with the bureau's seal), 张伟 finds it under 我的证照 and
// shows it (亮证): the QR code on the page, read by an independent decoder (zbarimg, from a
// screenshot), opens the public verification page, which says 有效 and masks the holder's code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD, approveAll, checkA11y, go, launchBrowser, saveScreenshot, signIn, uploadRequired, url } from './lib.mjs';

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

/** Decodes the QR code in a PNG with zbarimg (Debian's zbar-tools). */
async function decodeQr(png) {
  try {
    const { stdout } = await promisify(execFile)('zbarimg', ['--quiet', '--raw', png]);
    return stdout.trim();
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('zbarimg is not installed: apt-get install -y zbar-tools (scripts/install-deps.sh does it)');
    throw e;
  }
}

test('an approved case gives the citizen a licence to show (亮证) and anyone verifies it by its QR code', async (t) => {
  const citizenCtx = await browser.newContext({ ...PHONE_VIEW, javaScriptEnabled: false });
  const windowCtx = await browser.newContext({ javaScriptEnabled: false });
  const approverCtx = await browser.newContext({ javaScriptEnabled: false });
  const verifierCtx = await browser.newContext({ ...PHONE_VIEW, javaScriptEnabled: false });
  const dir = await mkdtemp(join(tmpdir(), 'yiwang-licence-e2e-'));
  t.after(async () => {
    for (const c of [citizenCtx, windowCtx, approverCtx, verifierCtx]) await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  const citizen = await citizenCtx.newPage();
  const clerk = await windowCtx.newPage();
  const approver = await approverCtx.newPage();
  try {
    await citizen.goto(url('/account/login'));
    await citizen.locator('input[name="account"]').fill('13800000004');
    await citizen.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await go(citizen, () => citizen.locator('input[name="password"]').press('Enter'));

    // Apply online for 食品经营许可 at 岳麓区 (the demo binds 食品经营许可证 to it), for the
    // enterprise 张伟 represents.
    await citizen.goto(url('/items?q=食品经营许可&region=430104'));
    const hit = citizen.locator('ol.results a', { hasText: '食品经营许可' }).first();
    await go(citizen, () => hit.click());
    await go(citizen, () => citizen.locator('#apply').click());
    await go(citizen, () => citizen.getByRole('button', { name: '开始申请' }).click());
    const casePath = new URL(citizen.url()).pathname;
    await uploadRequired(citizen, '经营场所证明.pdf', PDF);
    await go(citizen, () => citizen.getByRole('button', { name: '提交申请' }).click());
    const caseNo = (await citizen.locator('#case-no').innerText()).trim();

    // 受理 at the window, approval of every step of this case.
    await clerk.goto(url('/admin/login'));
    await signIn(clerk, 'yl.window');
    await clerk.goto(url('/admin/cases'));
    await go(clerk, () => clerk.locator('#queue a', { hasText: caseNo }).click());
    await go(clerk, () => clerk.locator('#accept').click());
    assert.match(await clerk.locator('#case-state').innerText(), /办理中/);
    await approver.goto(url('/admin/login'));
    await signIn(approver, 'yl.scjg.approver');
    await approveAll(approver, caseNo);

    // The licence is issued by the platform's outbox consumer: 我的证照 lists it (allow the
    // consumer its few seconds).
    let row;
    for (let i = 0; i < 40; i++) {
      await citizen.goto(url('/account/licences'));
      row = citizen.locator('a', { hasText: '食品经营许可证' });
      if ((await row.count()) > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok((await row.count()) > 0, 'the licence is listed under 我的证照');
    assert.deepEqual(await checkA11y(citizen), [], 'problems on 我的证照');
    await go(citizen, () => row.first().click());

    // 亮证: the page fits the phone, says 有效, and its QR code opens the verification page.
    assert.deepEqual(await checkA11y(citizen), [], 'problems on the licence page');
    assert.ok((await overflow(citizen)) <= 1, 'the licence page scrolls sideways at 390 px');
    const sticking = await citizen.evaluate(() =>
      [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName),
    );
    assert.deepEqual(sticking, [], 'nothing sticks out of the screen (long identifiers wrap)');
    const labels = await citizen.locator('dl.facts dt').allInnerTexts();
    assert.ok(labels.indexOf('经营者名称') < labels.indexOf('主体业态'), `fields in the type's order: ${labels}`);
    assert.match(await citizen.locator('[role="status"]').innerText(), /有效/);
    const qr = citizen.locator('.licence-show .qr svg');
    assert.equal(await qr.count(), 1, 'the QR code is drawn');
    const box = await qr.boundingBox();
    assert.ok(box.width >= 200, `the QR code is large enough to scan from a phone (${box.width}px)`);
    const png = join(dir, 'qr.png');
    await qr.screenshot({ path: png });
    const link = await decodeQr(png);
    assert.match(link, /\/licences\/verify\?id=1\.2\.156\.3005\.2\./, `the QR code: ${link}`);
    const id = new URL(link).searchParams.get('id');
    assert.ok((await citizen.locator('.licence-show code').innerText()).includes(id));
    await saveScreenshot(citizen, 'licence-show');

    // Someone else scans it: the public page, no sign-in, the holder's code masked.
    const verifier = await verifierCtx.newPage();
    await verifier.goto(url(new URL(link).pathname + new URL(link).search));
    const body = await verifier.locator('main').innerText();
    assert.match(body, /有效/);
    assert.match(body, /食品经营许可证/);
    assert.match(body, /湖南湘江智能科技有限公司/);
    assert.match(body, /\*{4}/, 'the holder\'s code is masked');
    assert.deepEqual(await checkA11y(verifier), [], 'problems on the verification page');

    // The case itself ended approved.
    await citizen.goto(url(casePath));
    assert.match(await citizen.locator('#case-state').innerText(), /准予/);
  } catch (e) {
    await saveScreenshot(citizen, 'licence-citizen-failure').catch(() => {});
    await saveScreenshot(clerk, 'licence-window-failure').catch(() => {});
    await saveScreenshot(approver, 'licence-approver-failure').catch(() => {});
    throw e;
  }
});
