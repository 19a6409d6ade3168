// Citizens' accounts in a browser without JavaScript, at phone width: register with the form's
// labels and the keyboard, read the SMS code from the server's dev outbox, confirm, and find the
// account page with the real-name level and the masked ID number only. No staff sign-in here:
// the admin sign-in rate limit is shared by every test file (staff identity pages are covered
// by crates/web/tests/account.rs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkA11y, devOutboxCode, launchBrowser, randomIdNumber, url, withPage } from './lib.mjs';

const PHONE_VIEW = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
const PASSWORD = 'Citizen#2026';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The page's horizontal overflow at its width (0 = none). */
async function overflow(page) {
  return page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
}

test('register, confirm the phone and see the account page, without JavaScript at phone width', async (t) => {
  await withPage(t, browser, { ...PHONE_VIEW, javaScriptEnabled: false }, async (page) => {
    const id = randomIdNumber();
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

    // The header offers 登录 and 注册.
    await page.goto(url('/'));
    const register = page.locator('header .account-links a[href="/account/register"]');
    assert.equal(await register.count(), 1, 'the header links to /account/register');
    await register.click();
    assert.equal(new URL(page.url()).pathname, '/account/register');
    assert.deepEqual(await checkA11y(page), [], 'problems on the registration page');
    assert.ok((await overflow(page)) <= 1, 'the registration page scrolls sideways at 390 px');

    // Fill in by label, submit with Enter.
    await page.getByLabel('姓名').fill('测试用户');
    await page.getByLabel('居民身份证号码').fill(id);
    await page.getByLabel('手机号码').fill(phone);
    await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
    await page.getByLabel('确认密码').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/account\/confirm\?u=/), page.getByLabel('确认密码').press('Enter')]);
    const masked = `${phone.slice(0, 3)}****${phone.slice(7)}`;
    assert.ok((await page.locator('main').innerText()).includes(masked), `the confirmation page names ${masked}`);
    assert.deepEqual(await checkA11y(page), [], 'problems on the confirmation page');

    // A wrong code is refused with the field marked.
    await page.getByLabel('短信验证码').fill('abcdef');
    const [bad] = await Promise.all([page.waitForNavigation(), page.getByLabel('短信验证码').press('Enter')]);
    assert.equal(bad?.status(), 400);
    assert.equal(await page.getByLabel('短信验证码').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('短信验证码').getAttribute('aria-describedby'), 'err-code');

    // The code from the dev outbox completes the registration.
    const code = await devOutboxCode(phone);
    assert.match(code ?? '', /^\d{6}$/, `a code for ${phone} in the dev outbox`);
    await page.getByLabel('短信验证码').fill(code);
    await Promise.all([page.waitForURL(/\/account\?done=registered$/), page.getByLabel('短信验证码').press('Enter')]);
    const main = await page.locator('main').innerText();
    assert.match(main, /L1 基础实名/, 'the level is shown');
    assert.ok(main.includes(`${id.slice(0, 4)}**********${id.slice(14)}`), 'the masked ID number is shown');
    const html = await page.content();
    assert.ok(!html.includes(id), 'the full ID number never appears');
    assert.ok(!html.includes(phone), 'the full phone number never appears');
    assert.deepEqual(await checkA11y(page), [], 'problems on the account page');
    assert.ok((await overflow(page)) <= 1, 'the account page scrolls sideways at 390 px');

    // The header now shows the masked name; 退出 signs out.
    const header = await page.locator('header .account-links').innerText();
    assert.match(header, /测\*\*户/);
    await Promise.all([page.waitForURL(url('/')), page.locator('header .account-links button[type="submit"]').click()]);
    assert.equal(await page.locator('header .account-links a[href="/account/login"]').count(), 1);
  });
});
