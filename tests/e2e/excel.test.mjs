// Excel exchange of an implementation list, without JavaScript: the 长沙市公安局 manager exports
// the list (a real download through the page's link), imports the very same file back (every
// item unchanged), then uploads a file that is not a workbook and a workbook with wrong cells,
// and is told in Chinese, cell by cell, that nothing was imported.
//
// The wrong workbook is the real export with a few cells rewritten in its sheet XML (a small zip
// reader/writer on node:zlib below), so that every other cell stays exactly as exported.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { checkA11y, launchBrowser, saveScreenshot, signIn, url } from './lib.mjs';

const MANAGER = 'cs.gaj.manager'; // 长沙市公安局
const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let browser;
let context;
let page;
let dir;
/** The exported workbook: { name, bytes }. */
let exported = null;
/** How many items the manager's organisation has, as the list says. */
let total = 0;
let failedStep = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yiwang-e2e-excel-'));
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'zh-CN', javaScriptEnabled: false, acceptDownloads: true });
  page = await context.newPage();
});
after(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One step; skipped when an earlier one failed; a screenshot of the page on failure. */
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
      t.diagnostic(`screenshot: ${await saveScreenshot(page, name)} (url: ${page.url()})`);
      throw err;
    }
  });
}

async function clickAndWait(locator) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return res;
}

/** Opens the import page from the list, chooses the file and presses 导入; returns the response. */
async function upload(file) {
  let res = await page.goto(url('/admin/items'));
  assert.equal(res.status(), 200);
  res = await clickAndWait(page.locator('main a', { hasText: '导入Excel' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/admin/items/import');
  assert.deepEqual(await checkA11y(page), [], 'the import page is accessible');
  await page.getByLabel(/Excel 文件/).setInputFiles(file);
  return clickAndWait(page.locator('form[enctype="multipart/form-data"] button[type="submit"]'));
}

/** The import summary as { 新增事项, 更新或变更的事项, 无变化的事项 }. */
async function summary() {
  const dl = page.locator('section[aria-labelledby="h-result"] dl');
  const dts = (await dl.locator('dt').allInnerTexts()).map((s) => s.trim());
  const dds = (await dl.locator('dd').allInnerTexts()).map((s) => Number(s.trim()));
  return Object.fromEntries(dts.map((k, i) => [k, dds[i]]));
}

/** The rejected import's error table as [{ sheet, row, column, message }]. */
async function importErrors() {
  const rows = page.locator('section[aria-labelledby="h-errors"] tbody tr');
  const out = [];
  for (const r of await rows.all()) {
    const [sheet, row, column, message] = (await r.locator('td').allInnerTexts()).map((s) => s.trim());
    out.push({ sheet, row, column, message });
  }
  return out;
}

step('the manager signs in and downloads the list with 导出Excel', async () => {
  await page.goto(url('/admin/login'));
  assert.ok(await signIn(page, MANAGER));
  const res = await page.goto(url('/admin/items'));
  assert.equal(res.status(), 200);
  const count = (await page.locator('main p[role="status"]').innerText()).match(/事项总数：\s*(\d+)/);
  assert.ok(count, 'the list says how many items there are');
  total = Number(count[1]);
  assert.ok(total > 0, 'the organisation has items');
  assert.equal(await page.locator('main tbody tr').count(), total);

  const link = page.locator('main a', { hasText: '导出Excel' });
  assert.equal(await link.getAttribute('href'), '/admin/items/export.xlsx');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(await download.failure(), null, 'the download completed');
  const name = download.suggestedFilename();
  assert.match(name, /\.xlsx$/, `the file name ${name}`);
  const path = join(dir, 'export.xlsx');
  await download.saveAs(path);
  const bytes = await readFile(path);
  assert.ok(bytes.length > 1000, `a non-empty workbook (${bytes.length} bytes)`);
  assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'a zip (xlsx) file');
  // The workbook has one row per item on its 事项 sheet.
  const book = Workbook.read(bytes);
  assert.equal(book.rows('事项').length, total + 1, 'a header and one row per item on 事项');
  exported = { name: 'export.xlsx', path, bytes };
  // The page is still there: a download does not navigate away.
  assert.equal(new URL(page.url()).pathname, '/admin/items');
});

step('importing the exported file back changes nothing and says so', async () => {
  const res = await upload(exported.path);
  assert.equal(res.status(), 200);
  const at = new URL(page.url());
  assert.equal(at.pathname, '/admin/items/import');
  assert.equal(at.searchParams.get('done'), 'imported');
  assert.match(await page.locator('.notice[role="status"]').innerText(), /导入完成/);
  assert.deepEqual(await summary(), { 新增事项: 0, 更新或变更的事项: 0, 无变化的事项: total });
  assert.deepEqual(await checkA11y(page), []);
  // No item got a new draft.
  await page.goto(url('/admin/items?status=draft'));
  assert.match(await page.locator('main p[role="status"]').innerText(), new RegExp(`：\\s*0\\s*/\\s*${total}`));
});

step('a file that is not a workbook is refused (422) in Chinese: 未导入任何数据', async () => {
  const res = await upload({ name: '实施清单.xlsx', mimeType: XLSX_MIME, buffer: Buffer.from('这不是一个Excel文件，只是文本。\n', 'utf8') });
  assert.equal(res.status(), 422, 'uploading a text file named .xlsx');
  const alert = (await page.locator('main [role="alert"]').allInnerTexts()).join('\n');
  assert.match(alert, /未导入任何数据/);
  const problems = await importErrors();
  assert.ok(problems.length >= 1, 'the problem is listed');
  for (const p of problems) {
    assert.match(p.message, /[\u4e00-\u9fff]/, `a Chinese message: ${p.message}`);
    assert.doesNotMatch(p.message, /zip|invalid|error|panic|calamine/i, `a message for people, not a stack: ${p.message}`);
  }
  // The upload form is there to try again.
  assert.equal(await page.getByLabel(/Excel 文件/).count(), 1);
  assert.deepEqual(await checkA11y(page), []);
});

step('a workbook with wrong cells is refused (422) with every wrong cell listed, nothing imported', async () => {
  const book = Workbook.read(exported.bytes);
  const items = book.rows('事项');
  const materials = book.rows('申请材料');
  assert.ok(items.length >= 3 && materials.length >= 2, 'the export has rows to spoil');
  const promised = book.column('事项', '承诺办结时限');
  const type = book.column('事项', '事项类型');
  const originals = book.column('申请材料', '原件份数');
  book.setText('事项', `${promised.letter}2`, '十天');
  book.setText('事项', `${type.letter}3`, '不存在的类型');
  book.setText('申请材料', `${originals.letter}2`, '两份');
  const spoiled = book.write();

  const res = await upload({ name: 'spoiled.xlsx', mimeType: XLSX_MIME, buffer: spoiled });
  assert.equal(res.status(), 422, 'uploading a workbook with wrong cells');
  assert.match((await page.locator('main [role="alert"]').allInnerTexts()).join('\n'), /未导入任何数据/);
  const problems = await importErrors();
  const table = problems.map((p) => `${p.sheet}/${p.row}/${p.column}: ${p.message}`).join('\n');
  const at = (sheet, row, header) => problems.filter((p) => p.sheet === sheet && p.row === String(row) && p.column.startsWith(header));
  for (const [sheet, row, header, value] of [
    ['事项', 2, promised.header, '十天'],
    ['事项', 3, type.header, '不存在的类型'],
    ['申请材料', 2, originals.header, '两份'],
  ]) {
    const found = at(sheet, row, header.replace(/\s*（[\s\S]*$/, ''));
    assert.equal(found.length, 1, `one problem at ${sheet} row ${row} ${header}:\n${table}`);
    assert.match(found[0].message, /[\u4e00-\u9fff]/, `in Chinese: ${found[0].message}`);
    assert.ok(found[0].message.includes(value) || /整数|数字|应为|请/.test(found[0].message), `it says what is wrong: ${found[0].message}`);
  }
  assert.equal(problems.length, 3, `only the spoiled cells are reported:\n${table}`);

  // Nothing was imported: the good file is still unchanged against the items.
  const again = await upload(exported.path);
  assert.equal(again.status(), 200);
  assert.deepEqual(await summary(), { 新增事项: 0, 更新或变更的事项: 0, 无变化的事项: total });
});

// --- a minimal .xlsx editor ------------------------------------------------------------------------

/** An .xlsx read into its parts, with the cells of a sheet addressable by header. */
class Workbook {
  static read(bytes) {
    return new Workbook(unzip(bytes));
  }

  constructor(entries) {
    this.entries = entries; // [{ name, data: Buffer }]
    const text = (name) => this.entry(name).data.toString('utf8');
    const rels = new Map(
      [...text('xl/_rels/workbook.xml.rels').matchAll(/<Relationship\b[^>]*>/g)].map((m) => [attr(m[0], 'Id'), attr(m[0], 'Target')]),
    );
    this.sheets = new Map(
      [...text('xl/workbook.xml').matchAll(/<sheet\b[^>]*>/g)].map((m) => {
        const target = rels.get(attr(m[0], 'r:id'));
        return [unescapeXml(attr(m[0], 'name')), target.startsWith('/') ? target.slice(1) : `xl/${target}`];
      }),
    );
    this.strings = this.entries.some((e) => e.name === 'xl/sharedStrings.xml')
      ? [...text('xl/sharedStrings.xml').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
          [...m[1].matchAll(/<t\b[^>]*>([\s\S]*?)<\/t>/g)].map((t) => unescapeXml(t[1])).join(''),
        )
      : [];
  }

  entry(name) {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new Error(`no ${name} in the workbook`);
    return e;
  }

  sheetXml(sheet) {
    const path = this.sheets.get(sheet);
    if (!path) throw new Error(`no sheet ${sheet}; sheets: ${[...this.sheets.keys()].join(' ')}`);
    return this.entry(path);
  }

  /** The rows of a sheet as arrays of { ref, text }. */
  rows(sheet) {
    const xml = this.sheetXml(sheet).data.toString('utf8');
    return [...xml.matchAll(/<row\b[^>]*>([\s\S]*?)<\/row>/g)].map((r) =>
      [...r[1].matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)].map((c) => {
        const ref = attr(c[1], 'r');
        const v = (c[2] ?? '').match(/<v>([\s\S]*?)<\/v>/)?.[1];
        const t = attr(c[1], 't');
        const text =
          t === 's' ? this.strings[Number(v)] : t === 'inlineStr' ? unescapeXml((c[2] ?? '').match(/<t\b[^>]*>([\s\S]*?)<\/t>/)?.[1] ?? '') : unescapeXml(v ?? '');
        return { ref, text };
      }),
    );
  }

  /** The column whose header (first row) starts with the given text: { letter, header }. */
  column(sheet, header) {
    const cell = this.rows(sheet)[0].find((c) => c.text.startsWith(header));
    if (!cell) throw new Error(`no column ${header} on ${sheet}`);
    return { letter: cell.ref.replace(/\d+$/, ''), header: cell.text };
  }

  /** Replaces a cell (which must exist) by an inline text cell with the same style. */
  setText(sheet, ref, text) {
    const e = this.sheetXml(sheet);
    const xml = e.data.toString('utf8');
    const re = new RegExp(`<c\\b([^>]*?)\\br="${ref}"([^>]*?)(?:/>|>[\\s\\S]*?</c>)`);
    const m = xml.match(re);
    if (!m) throw new Error(`no cell ${ref} on ${sheet}`);
    const style = attr(m[0].match(/^<c\b[^>]*>/)[0], 's');
    const cell = `<c r="${ref}"${style ? ` s="${style}"` : ''} t="inlineStr"><is><t>${escapeXml(text)}</t></is></c>`;
    e.data = Buffer.from(xml.replace(re, cell), 'utf8');
  }

  write() {
    return zip(this.entries);
  }
}

function attr(tag, name) {
  return tag.match(new RegExp(`\\s${name.replace(':', '\\:')}="([^"]*)"`))?.[1] ?? '';
}
function escapeXml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
function unescapeXml(s) {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}

/** The entries of a zip file (stored or deflated), in order. */
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const skip = nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`zip method ${method} of ${name}`);
    entries.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    p += 46 + skip;
  }
  return entries;
}

/** A zip file of the entries, deflated. */
function zip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const n = Buffer.from(name, 'utf8');
    const body = deflateRawSync(data);
    const crc = crc32(data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt16LE(8, 8); // deflate
    head.writeUInt16LE(0, 10); // time
    head.writeUInt16LE(0x21, 12); // 1980-01-01
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(body.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(n.length, 26);
    head.writeUInt16LE(0, 28);
    const dirEntry = Buffer.alloc(46);
    dirEntry.writeUInt32LE(0x02014b50, 0);
    dirEntry.writeUInt16LE(20, 4);
    dirEntry.writeUInt16LE(20, 6);
    dirEntry.writeUInt16LE(0x0800, 8);
    dirEntry.writeUInt16LE(8, 10);
    dirEntry.writeUInt16LE(0, 12);
    dirEntry.writeUInt16LE(0x21, 14);
    dirEntry.writeUInt32LE(crc, 16);
    dirEntry.writeUInt32LE(body.length, 20);
    dirEntry.writeUInt32LE(data.length, 24);
    dirEntry.writeUInt16LE(n.length, 28);
    dirEntry.writeUInt32LE(offset, 42);
    parts.push(head, n, body);
    central.push(dirEntry, n);
    offset += head.length + n.length + body.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, dirBytes, end]);
}
