// Akta's clerk web UI in Debian's chromium, driven by playwright-core (no browser download).
// Started by services/akta/tests/browser.rs against a real Akta; everything it needs comes
// from the environment (see `env` below). Scenarios, one after another:
//   - the flows of issue #5: log in, create an Akte under a plan unit, open it, drop two files
//     onto a Vorgang and watch both progress bars, PDF preview, Wiedervorlage on the start
//     page, search by content and open the hit in its Akte, zdA after the confirmation;
//   - its acceptance: a new clerk files a document in at most 4 clicks and finds it again;
//   - uploads that fail, are cancelled and retried; new versions by drop; keyboard filing;
//   - no JavaScript: skip link, upload form, Vermerk;
//   - previews of images, e-mail and HTML, hostile names and contents;
//   - axe-core on every page (no serious or critical violations) and visible keyboard focus;
//   - tenant branding set by the admin and seen by a clerk.
// Screenshots go to AKTA_SCREENSHOTS. Exits non-zero when a scenario fails.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { join } from "node:path";
import { assert, dropFiles, env, pdfFile } from "./shared.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");


const BASE = env("AKTA_URL");
const TENANT = env("AKTA_TENANT");
const PASSWORD = env("AKTA_PASSWORD");
const CLERK = env("AKTA_CLERK");
const NEW_CLERK = env("AKTA_NEW_CLERK");
const ADMIN = env("AKTA_ADMIN");
const UNIT = env("AKTA_PLAN_UNIT");
const UNIT_CODE = env("AKTA_PLAN_UNIT_CODE");
const FILE = env("AKTA_FILE");
const FILE_REFERENCE = env("AKTA_FILE_REFERENCE");
const CASE = env("AKTA_CASE");
const SCREENSHOTS = env("AKTA_SCREENSHOTS");
mkdirSync(SCREENSHOTS, { recursive: true });

// ---------------------------------------------------------------------------------------
// Test files, made here: a text file with a distinctive German word and a minimal PDF with
// a text layer (one page, Helvetica, one line of text).

function textFile(word) {
  const text = `Aktenvermerk zur Ortsbesichtigung am Musterweg 3.\n` +
    `Im Garten steht ein alter ${word}, der erhalten bleiben soll.\n`;
  return Buffer.from(text, "utf8");
}


/// A small coat of arms as PNG: red with a white diagonal band.
function pngFile(size = 24) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3); // filter byte 0, then RGB
    for (let x = 0; x < size; x++) {
      row.set(Math.abs(x - y) < 3 ? [255, 255, 255] : [178, 34, 52], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------------------------------
// A tiny runner: scenarios run one after another, each failure is reported with its step.

const failures = [];
let lastPage = null;
let currentStep = "";

function step(text) {
  currentStep = text;
  console.log(`  · ${text}`);
}


async function scenario(name, fn) {
  console.log(`\n▶ ${name}`);
  const started = Date.now();
  try {
    await fn();
    console.log(`✔ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    console.log(`✘ ${name}: failed at "${currentStep}"\n${e && e.stack ? e.stack : e}`);
    failures.push(name);
    if (lastPage && !lastPage.isClosed()) {
      console.log(`  the page was ${lastPage.url()}`);
      await screenshot(lastPage, `failed-${failures.length}`).catch(() => {});
      await lastPage.context().close();
    }
  }
}

// A hung browser must not hang the test run.
setTimeout(() => {
  console.log(`\nbrowser tests timed out at "${currentStep}"`);
  process.exit(2);
}, 5 * 60_000).unref();

const browser = await chromium.launch({
  executablePath: env("AKTA_CHROMIUM"),
  headless: true,
  // No network but loopback on test machines: Chromium's own background traffic only fails.
  args: [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
  ],
});

/// A fresh browser profile (cookies) with a page that fails the scenario on script errors
/// and on content the CSP blocked.
async function newPage(options = {}) {
  const context = await browser.newContext({ locale: "de-DE", ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  lastPage = page;
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      page.problems.push(`console error on ${page.url()}: ${m.text()}`);
    }
  });
  // Failed loads are reported with their URL (the console message lacks it).
  page.on("response", (r) => {
    if (r.status() >= 400) {
      page.problems.push(`HTTP ${r.status()} for ${r.url()} on ${page.url()}`);
    }
  });
  return page;
}

function noProblems(page) {
  assert(page.problems.length === 0, `the page reported problems:\n${page.problems.join("\n")}`);
}

async function login(page, username) {
  step(`log in as ${username}`);
  await page.goto(`${BASE}/anmelden`);
  await page.getByLabel("Behörde").selectOption(TENANT);
  await page.getByLabel("Benutzername").fill(username);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.locator("[data-testid=login-form] button[type=submit]").click();
  await page.waitForURL(`${BASE}/arbeitsplatz`);
  assert(
    (await page.locator("h1").textContent()).includes("Mein Arbeitsplatz"),
    "login did not lead to Mein Arbeitsplatz",
  );
}

/// Drops `files` ({name, type, bytes}) onto `selector` the way a file manager does: a real
/// DataTransfer with File objects made in the page, then dragenter, dragover and drop.

/// Waits until every upload entry is filed with its bar at 100 %; returns the entries.
async function uploadsFinish(page, count) {
  const items = page.locator("[data-testid=upload-item]");
  await items.nth(count - 1).waitFor();
  assert((await items.count()) === count, `expected ${count} upload entries`);
  // Each file has its own bar, from the moment of the drop.
  assert((await page.locator("[data-testid=upload-item] progress").count()) === count,
    "not one progress bar per file");
  await page.waitForFunction((n) => {
    const all = [...document.querySelectorAll("[data-testid=upload-item]")];
    return all.length === n && all.every((li) => li.dataset.state === "done" ||
      li.dataset.state === "failed");
  }, count);
  const states = await items.evaluateAll((lis) => lis.map((li) => ({
    state: li.dataset.state,
    text: li.innerText.replace(/\s+/g, " ").trim(),
    buttonShown: li.querySelector("button").checkVisibility(),
    value: li.querySelector("progress").value,
    max: li.querySelector("progress").max,
  })));
  for (const s of states) {
    assert(s.state === "done" && s.value === s.max && !s.buttonShown,
      `an upload did not finish: ${JSON.stringify(states)}`);
  }
  await page.locator("[data-testid=uploads-done]").waitFor();
  return states;
}

/// Searches from the header search box until `title` is a hit (extraction and indexing run
/// in the background); returns the hit's locator.
async function searchUntilFound(page, word, title, onSubmit = () => {}) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await page.locator("#top-q").fill(word);
    onSubmit();
    await page.locator("[data-testid=header-search] button[type=submit]").click();
    await page.waitForURL(/\/suche\?/);
    const hit = page.locator("[data-testid=search-hit]").filter({ hasText: title });
    if ((await hit.count()) > 0) {
      return hit.first();
    }
    assert(Date.now() < deadline, `"${word}" found no hit "${title}" within 15 s`);
    await page.waitForTimeout(500);
  }
}

function berlinToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date());
}

async function screenshot(page, name) {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`    screenshot ${path}`);
}

// Filled in by the flows, used by the accessibility scan.
const seen = {};

// ---------------------------------------------------------------------------------------

await scenario("clerk flows: Akte, drag and drop, preview, Wiedervorlage, search, zdA", async () => {
  const page = await newPage();
  await login(page, CLERK);

  step("open the plan unit in the Aktenplan and create an Akte there");
  await page.getByRole("link", { name: "Aktenplan" }).first().click();
  await page.locator("[data-testid=plan-unit]", { hasText: UNIT_CODE }).click();
  await page.locator("[data-testid=new-file]").click();
  await page.getByLabel("Betreff").fill("Umbau Scheune zu Wohnhaus, Am Hohlweg 7");
  await page.locator("[data-testid=file-form] [data-testid=submit]").click();
  const view = page.locator("[data-testid=file-view]");
  await view.waitFor();
  const fileId = await view.getAttribute("data-file-id");
  const reference = (await page.locator("[data-testid=file-reference]").textContent()).trim();
  assert(reference.startsWith(UNIT_CODE), `Aktenzeichen ${reference} is not under ${UNIT_CODE}`);
  seen.newFile = fileId;

  step("the new Akte is listed under its plan unit and opens from there");
  await page.goto(`${BASE}/aktenplan?einheit=${UNIT}`);
  await page.getByRole("link", { name: reference }).click();
  await page.waitForURL(new RegExp(`/akten/${fileId}`));

  step("add a Vorgang");
  await page.locator("[data-testid=new-case]").click();
  await page.getByLabel("Betreff").fill("Bauvoranfrage");
  await page.locator("[data-testid=submit]").click();
  await page.waitForURL(/register=/);
  const caseTab = page.locator("[data-testid=register-tab][aria-current=page]");
  assert((await caseTab.textContent()).includes("Bauvoranfrage"), "the Vorgang register is not open");

  step("drop two files onto the Vorgang and watch both progress bars finish");
  const zone = "[data-testid=dropzone]";
  assert(await page.locator(zone).isVisible(), "the drop zone is not shown");
  // The first upload is held back until both bars have been seen: one running, one waiting.
  const caseId = new URL(page.url()).searchParams.get("register");
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route(`**/api/v1/cases/${caseId}/documents`, async (route) => {
    await held;
    await route.continue();
  });
  await dropFiles(page, zone, [
    { name: "Ortsbesichtigung.txt", type: "text/plain", bytes: textFile("Zwetschgenbaum") },
    { name: "Brandschutz.pdf", type: "application/pdf",
      bytes: pdfFile("Brandschutznachweis Dachgeschoss") },
  ]);
  const items = page.locator("[data-testid=upload-item]");
  await items.nth(1).waitFor();
  // Each file is first checked against the Akte (SHA-256, issue 14), then sent.
  await page.waitForFunction(() =>
    document.querySelector("[data-testid=upload-item]").dataset.state === "uploading");
  const before = await items.evaluateAll((lis) => lis.map((li) =>
    `${li.dataset.state} ${li.querySelector("progress").value}/${li.querySelector("progress").max}`));
  console.log(`    while uploading: ${before.join(" | ")}`);
  assert(before[0].startsWith("uploading ") && before[1] === "waiting 0/100",
    `bars before the upload ran: ${before}`);
  release();
  const states = await uploadsFinish(page, 2);
  console.log(`    uploads: ${states.map((s) => s.text).join(" | ")}`);
  await page.locator("[data-testid=uploads-done]").click();
  const rows = page.locator("[data-testid=document-row]");
  await rows.nth(1).waitFor();
  assert((await rows.count()) === 2, "the register does not list both documents");
  seen.fileWithCase = page.url();
  await screenshot(page, "akte");

  step("open the PDF: the preview frames the inline content URL, which serves a PDF");
  await page.locator("[data-testid=document-link]", { hasText: "Brandschutz" }).click();
  await page.locator("[data-testid=document-view]").waitFor();
  seen.pdfDocument = page.url();
  const frame = page.locator("iframe[data-testid=preview-pdf]");
  await frame.waitFor();
  const src = await frame.getAttribute("src");
  assert(/\/api\/v1\/documents\/[^/]+\/versions\/1\/content\?disposition=inline$/.test(src),
    `the preview frames ${src}`);
  const pdf = await page.request.get(new URL(src, BASE).href);
  assert(pdf.status() === 200, `preview content: HTTP ${pdf.status()}`);
  assert(pdf.headers()["content-type"].startsWith("application/pdf"),
    `preview content type ${pdf.headers()["content-type"]}`);
  assert(pdf.headers()["content-disposition"].startsWith("inline"),
    `preview disposition ${pdf.headers()["content-disposition"]}`);
  assert((await pdf.body()).subarray(0, 5).toString() === "%PDF-", "the preview is not the PDF");
  // The frame itself loaded that URL (no frame-ancestors / X-Frame-Options refusal).
  const pdfFrame = await (await frame.elementHandle()).contentFrame();
  const loaded = Date.now() + 10_000;
  while (!pdfFrame.url().includes("disposition=inline")) {
    assert(Date.now() < loaded, `the preview frame shows ${pdfFrame.url()}`);
    await page.waitForTimeout(100);
  }

  step("the text document previews its text");
  await page.goto(seen.fileWithCase);
  await page.locator("[data-testid=document-link]", { hasText: "Ortsbesichtigung" }).click();
  await page.locator("[data-testid=preview-text]").waitFor();
  seen.textDocument = page.url();
  assert((await page.locator("[data-testid=preview-text]").textContent()).includes("Zwetschgenbaum"),
    "the text preview lacks the file's text");

  step("a Wiedervorlage without a date is stopped at its field, not with an error page");
  await page.goto(`${BASE}/akten/${fileId}`);
  await page.locator("[data-testid=file-resubmission-form] button[value=set]").click();
  await page.waitForTimeout(500);
  assert(page.url() === `${BASE}/akten/${fileId}`, `an empty date led to ${page.url()}`);
  assert(await page.locator("#wv-file").evaluate((el) => el.matches(":invalid")),
    "the empty date field is not marked invalid");

  step("set a Wiedervorlage for today and find it on Mein Arbeitsplatz");
  const today = berlinToday();
  await page.locator("#wv-file").fill(today);
  await page.locator("[data-testid=file-resubmission-form] button[value=set]").click();
  await page.locator("[data-testid=file-resubmission]").filter({ hasNotText: "–" }).waitFor();
  await page.locator("[data-testid=tenant-name]").click();
  await page.waitForURL(`${BASE}/arbeitsplatz`);
  const due = page.locator("[data-testid=due-item]", { hasText: reference });
  assert((await due.count()) === 1, `the Wiedervorlage of ${reference} is not on the start page`);
  await screenshot(page, "arbeitsplatz");

  step("search a word from the text file's content and open the hit in its Akte");
  const hit = await searchUntilFound(page, "Zwetschgenbaum", "Ortsbesichtigung");
  assert((await hit.locator(".snippet mark").count()) > 0, "the hit has no highlighted snippet");
  seen.search = page.url();
  await screenshot(page, "suche");
  await page.locator("[data-testid=facets] a", { hasText: "Eingang" }).click();
  await page.waitForURL(/kind=Eingang/);
  assert((await page.locator("[data-testid=search-hit]").count()) >= 1, "the kind facet lost the hit");
  await hit.locator("[data-testid=hit-file-link]").click();
  await page.locator("[data-testid=file-view]").waitFor();
  assert((await page.locator("[data-testid=file-view]").getAttribute("data-file-id")) === fileId,
    "the hit did not open its Akte");

  step("the PDF's text layer is found too");
  await searchUntilFound(page, "Brandschutznachweis", "Brandschutz");

  step("close the Akte (zdA) after the confirmation step");
  await page.goto(`${BASE}/akten/${fileId}`);
  await page.locator("[data-testid=close-file]").click();
  await page.waitForURL(/\/zda$/);
  seen.closeForm = page.url();
  await page.locator("main [data-testid=submit], main button[type=submit]").first().click();
  await page.locator("[data-testid=reopen-file]").waitFor();
  const status = (await page.locator("[data-testid=file-status]").textContent()).trim();
  assert(/zdA|zu den Akten/i.test(status), `status after zdA: ${status}`);
  assert((await page.locator("[data-testid=dropzone]").count()) === 0,
    "a closed Akte still takes uploads");
  seen.closedFile = `${BASE}/akten/${fileId}`;
  noProblems(page);
  await page.context().close();
});

await scenario("acceptance: a new clerk files a document in at most 4 clicks and finds it", async () => {
  const page = await newPage();
  await login(page, NEW_CLERK);
  let clicks = 0;
  const click = async (locator, what) => {
    clicks += 1;
    console.log(`    click ${clicks}: ${what}`);
    await locator.click();
  };

  step("from the start page to the existing Akte, as a new user finds it: the Aktenplan");
  await click(page.locator("nav.main-nav").getByRole("link", { name: "Aktenplan" }), "Aktenplan");
  await click(page.locator("[data-testid=plan-unit]", { hasText: UNIT_CODE }), `plan unit ${UNIT_CODE}`);
  await click(page.getByRole("link", { name: FILE_REFERENCE }), `Akte ${FILE_REFERENCE}`);
  await page.locator("[data-testid=file-view]").waitFor();

  step("drag and drop the file onto the Akte (one click)");
  clicks += 1;
  console.log(`    click ${clicks}: drag and drop`);
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "Nachbarbeteiligung.txt", type: "text/plain", bytes: textFile("Mirabellenhecke") },
  ]);
  await uploadsFinish(page, 1);
  console.log(`    filed with ${clicks} clicks after login`);
  assert(clicks <= 4, `filing took ${clicks} clicks`);

  step("the filed document is in the Akte");
  await page.locator("[data-testid=uploads-done]").click();
  await page.locator("[data-testid=document-link]", { hasText: "Nachbarbeteiligung" }).waitFor();

  step("find it again by a word in its content from the search box");
  let searches = 0;
  const hit = await searchUntilFound(page, "Mirabellenhecke", "Nachbarbeteiligung", () => searches++);
  console.log(`    found after ${searches} search(es)`);
  await hit.getByRole("link", { name: "Nachbarbeteiligung" }).click();
  await page.locator("[data-testid=document-view]").waitFor();
  assert((await page.locator("[data-testid=document-title]").textContent()).includes("Nachbarbeteiligung"),
    "the hit did not open the document");

  step("the shorter way over Mein Arbeitsplatz: the Akte is among the recent changes");
  await page.goto(`${BASE}/arbeitsplatz`);
  const recent = page.locator("[data-testid=recent-changes]").getByRole("link", { name: FILE_REFERENCE });
  assert((await recent.count()) > 0, "the Akte is not on the start page");
  noProblems(page);
  await page.context().close();
});

await scenario("uploads: a failed file is retried, a running one cancelled, none lost; new version by drop", async () => {
  const page = await newPage();
  await login(page, CLERK);
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  const uploads = `**/api/v1/cases/${CASE}/documents`;

  step("the network drops the first of two files: the second is filed all the same");
  let dropped = false;
  await page.route(uploads, async (route) => {
    if (!dropped) {
      dropped = true;
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "Statik.txt", type: "text/plain", bytes: textFile("Holzbalkendecke") },
    { name: "Entwässerung.txt", type: "text/plain", bytes: textFile("Regenrinne") },
  ]);
  const items = page.locator("[data-testid=upload-item]");
  await items.nth(0).and(page.locator("[data-state=failed]")).waitFor();
  await items.nth(1).and(page.locator("[data-state=done]")).waitFor();
  assert(!(await page.locator("[data-testid=uploads-done]").isVisible()),
    "'all filed' shown while one file failed");

  step("retry the failed file");
  const retry = items.nth(0).getByRole("button", { name: "Erneut versuchen" });
  assert(await retry.isVisible(), "the failed file has no visible retry button");
  await retry.click();
  await uploadsFinish(page, 2);
  await page.unroute(uploads);

  step("cancel a file while it uploads, then retry it");
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let holding = true;
  await page.route(uploads, async (route) => {
    if (holding) {
      holding = false;
      await held;
      // The page gave up on this request; answering it fails, which is expected.
      await route.abort().catch(() => {});
    } else {
      await route.continue();
    }
  });
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "Baulast.txt", type: "text/plain", bytes: textFile("Grunddienstbarkeit") },
  ]);
  const item = page.locator("[data-testid=upload-item]");
  await item.and(page.locator("[data-state=uploading]")).waitFor();
  await item.getByRole("button", { name: "Abbrechen" }).click();
  await item.and(page.locator("[data-state=cancelled]")).waitFor();
  release();
  await item.getByRole("button", { name: "Erneut versuchen" }).click();
  await uploadsFinish(page, 1);
  await page.unroute(uploads);

  step("every file is in the register exactly once");
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  for (const title of ["Statik", "Entwässerung", "Baulast"]) {
    const n = await page.locator("[data-testid=document-link]", { hasText: title }).count();
    assert(n === 1, `${title} is filed ${n} times`);
  }

  step("set a Wiedervorlage on the Vorgang and clear it again (with the date field emptied)");
  await page.locator("#wv-case").fill("2031-03-14");
  await page.locator("[data-testid=case-resubmission-form] button[value=set]").click();
  await page.locator("[data-testid=case-resubmission]", { hasText: "14.03.2031" }).waitFor();
  await page.locator("#wv-case").fill("");
  await page.locator("[data-testid=case-resubmission-form] button[value=clear]").click();
  await page.locator("[data-testid=case-resubmission]", { hasText: "–" }).waitFor();

  step("keyboard only: Tab to the drop zone's file chooser, focus shows, Space opens it");
  await page.locator("#drop-kind").focus();
  await page.keyboard.press("Tab");
  const focus = await page.evaluate(() => {
    const el = document.activeElement;
    const label = document.querySelector(`label[for="${el.id}"]`);
    const style = label && getComputedStyle(label);
    return { id: el.id, focusVisible: el.matches(":focus-visible"),
      labelOutline: style ? `${style.outlineStyle} ${style.outlineWidth}` : "no label" };
  });
  assert(focus.id === "drop-input" && focus.focusVisible,
    `Tab after the kind went to ${JSON.stringify(focus)}`);
  assert(!focus.labelOutline.startsWith("none"),
    `the focused file chooser shows no focus: ${JSON.stringify(focus)}`);
  // Chromium under load sometimes drops the first key press on a file input: press again
  // (still the keyboard) if no chooser opened.
  let chooser;
  for (let attempt = 0; !chooser && attempt < 3; attempt++) {
    [chooser] = await Promise.all([
      page.waitForEvent("filechooser", { timeout: 5000 }).catch(() => undefined),
      page.keyboard.press("Space"),
    ]);
  }
  assert(chooser, "Space on the focused file chooser opened no file dialog");
  assert(chooser.isMultiple(), "the file chooser takes one file only");
  await chooser.setFiles([
    { name: "Abstandsflächen.txt", mimeType: "text/plain", buffer: textFile("Grenzbebauung") },
  ]);
  await uploadsFinish(page, 1);
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);

  step("drop a file onto a document row: a new version of that document");
  const row = page.locator("[data-testid=document-row]", { hasText: "Statik" });
  await dropFiles(page, `[data-testid=document-row]:has(a:text-is("Statik"))`, [
    { name: "Statik-2.txt", type: "text/plain", bytes: textFile("Stahlträger") },
  ]);
  const states = await uploadsFinish(page, 1);
  assert(states[0].text.includes("Neue Version"), `not a new version: ${states[0].text}`);
  await row.locator("[data-testid=document-link]").click();
  await page.locator("[data-testid=document-view]").waitFor();
  assert((await page.locator("[data-testid=version-row]").count()) === 2,
    "the document does not have two versions");

  step("download the first version");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("[data-testid=version-row]")
      .filter({ has: page.locator("td:first-child", { hasText: /^1$/ }) })
      .locator("[data-testid=download-version]").click(),
  ]);
  assert(download.suggestedFilename() === "Statik.txt", `downloaded ${download.suggestedFilename()}`);
  const first = await download.createReadStream().then(async (stream) => {
    const parts = [];
    for await (const part of stream) {
      parts.push(part);
    }
    return Buffer.concat(parts).toString("utf8");
  });
  assert(first.includes("Holzbalkendecke"), "the first version's download is not its content");
  noProblems(page);
  await page.context().close();
});

await scenario("without JavaScript: keyboard, upload form and Vermerk", async () => {
  const page = await newPage({ javaScriptEnabled: false });
  await login(page, CLERK);

  step("the first Tab stop is the visible skip link to the content");
  await page.keyboard.press("Tab");
  const skip = await page.evaluate(() => {
    const el = document.activeElement;
    const box = el.getBoundingClientRect();
    return { href: el.getAttribute("href"), visible: box.width > 0 && box.left >= 0 && box.top >= 0,
      outline: getComputedStyle(el).outlineStyle };
  });
  assert(skip.href === "#inhalt" && skip.visible, `first Tab stop: ${JSON.stringify(skip)}`);
  assert(skip.outline !== "none", "the focused skip link has no visible focus outline");

  step("no drop zone without script; the upload form files a document");
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  assert(!(await page.locator("[data-testid=dropzone]").isVisible()), "a dead drop zone is shown");
  await page.locator("[data-testid=upload-document]").click();
  await page.locator("#title").fill("Stellungnahme Denkmalschutz");
  await page.locator("#file").setInputFiles({
    name: "Stellungnahme.txt", mimeType: "text/plain", buffer: textFile("Fachwerkgiebel"),
  });
  await page.locator("main [data-testid=submit]").click();
  await page.locator("[data-testid=document-link]", { hasText: "Stellungnahme Denkmalschutz" }).waitFor();

  step("write a Vermerk");
  await page.locator("[data-testid=write-note]").click();
  await page.locator("#title").fill("Telefonat mit dem Bauherrn");
  await page.locator("#text").fill("Der Bauherr reicht die Statik bis Freitag nach.");
  await page.locator("main [data-testid=submit]").click();
  await page.locator("[data-testid=document-title]", { hasText: "Telefonat mit dem Bauherrn" }).waitFor();
  // The preview shows the stored text once the worker has read it: reload like a person would.
  const deadline = Date.now() + 15_000;
  while ((await page.locator("[data-testid=preview-text]").count()) === 0) {
    assert(Date.now() < deadline, "the Vermerk's preview did not appear within 15 s");
    await page.waitForTimeout(500);
    await page.reload();
  }
  assert((await page.locator("[data-testid=preview-text]").textContent()).includes("Statik bis Freitag"),
    "the Vermerk's text is not shown");
  noProblems(page);
  await page.context().close();
});

await scenario("previews: images shown, e-mail and HTML as escaped text, hostile names never run", async () => {
  const page = await newPage();
  page.on("dialog", (d) => {
    page.problems.push(`a script from a file ran: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await login(page, CLERK);
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  const hostileName = "<img src=x onerror=alert(1)>.txt";
  const mail = [
    "From: Bauherr <bauherr@example.org>",
    "To: Bauamt <bauamt@example.org>",
    "Subject: Rueckfrage Gaube",
    "MIME-Version: 1.0",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p onmouseover=alert(3)>Bitte pruefen Sie die Gaube.</p><script>alert(4)</script>",
    "",
  ].join("\r\n");
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: hostileName, type: "text/plain", bytes: Buffer.from("<script>alert(2)</script> Giftschrank\n") },
    { name: "Rueckfrage.eml", type: "message/rfc822", bytes: Buffer.from(mail) },
    { name: "Seite.html", type: "text/html", bytes: Buffer.from("<h1>Aushang</h1><script>alert(5)</script>") },
    { name: "Wappen.png", type: "image/png", bytes: pngFile() },
  ]);
  await uploadsFinish(page, 4);
  assert((await page.locator("[data-testid=upload-list]").innerText()).includes(hostileName),
    "the upload list does not show the file name as text");
  assert((await page.locator("img[src=x]").count()) === 0, "a file name became markup");

  const open = async (title) => {
    await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
    await page.locator("[data-testid=document-link]").filter({ hasText: title }).first().click();
    await page.locator("[data-testid=document-view]").waitFor();
  };
  const textPreview = async () => {
    const deadline = Date.now() + 15_000;
    while ((await page.locator("[data-testid=preview-text]").count()) === 0) {
      assert(Date.now() < deadline, "no text preview within 15 s");
      await page.waitForTimeout(500);
      await page.reload();
    }
    return page.locator("[data-testid=preview-text]").textContent();
  };

  step("a hostile name and text are shown as text");
  await open("<img src=x onerror=alert(1)>");
  assert((await page.locator("[data-testid=document-title]").textContent()).includes("<img src=x"),
    "the title is not shown as text");
  assert((await textPreview()).includes("<script>alert(2)</script>"), "the text is not shown as text");

  step("an HTML e-mail previews as its text");
  await open("Rueckfrage");
  const mailText = await textPreview();
  assert(mailText.includes("Bitte pruefen Sie die Gaube."), `e-mail preview: ${mailText}`);
  seen.mailDocument = page.url();

  step("an HTML file previews as text; its inline URL stays a sandboxed download");
  await open("Seite");
  assert((await textPreview()).includes("Aushang"), "no HTML text preview");
  const html = await page.request.get(
    new URL(page.url().replace("/dokumente/", "/api/v1/documents/") + "/versions/1/content?disposition=inline").href);
  assert(html.headers()["content-disposition"].startsWith("attachment"),
    `HTML served ${html.headers()["content-disposition"]}`);
  assert(html.headers()["content-security-policy"].includes("sandbox"), "HTML content without sandbox");

  step("an image previews as an image");
  await open("Wappen");
  const img = page.locator("img[data-testid=preview-image]");
  await img.waitFor();
  await page.waitForFunction(() => document.querySelector("img[data-testid=preview-image]").complete);
  assert((await img.evaluate((i) => i.naturalWidth)) === 24, "the image preview did not load");
  assert((await img.getAttribute("alt")).includes("Wappen"), "the image preview has no alt text");
  seen.imageDocument = page.url();

  assert((await page.locator("script").count()) === 1, "a page has more scripts than akta.js");
  noProblems(page);
  await page.context().close();
});

// ---------------------------------------------------------------------------------------
// axe-core on every page. The pages' CSP allows only Akta's own script, so injecting axe
// into the page is blocked; the scan context alone bypasses the CSP (the flows above run
// under it and fail on anything it blocks).

async function scan(page, name, url) {
  if (url) {
    await page.goto(url);
  }
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    }));
  });
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  console.log(`    ${name}: ${result.length} violation(s), ${serious.length} serious or critical`);
  for (const v of result) {
    console.log(`      [${v.impact}] ${v.id}: ${v.help}`);
    for (const n of v.nodes) {
      console.log(`        ${n.target}\n          ${(n.summary || "").replace(/\n/g, "\n          ")}`);
    }
  }
  return serious.map((v) => `${name}: ${v.id}`);
}

/// Validation messages sit next to their field and are tied to it: every invalid field names
/// its message with aria-describedby, and the summary is announced (role=alert).
async function errorsAtFields(page, name) {
  const found = await page.evaluate(() => {
    const fields = [...document.querySelectorAll("main [aria-invalid=true]")];
    return {
      alert: document.querySelector("main [role=alert]") !== null,
      fields: fields.map((f) => {
        const ids = (f.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        const text = ids.map((id) => document.getElementById(id)?.textContent.trim() || "").join(" ");
        return { field: f.id, text };
      }),
    };
  });
  const problems = [];
  if (!found.alert) {
    problems.push(`${name}: the errors are not announced (no role=alert)`);
  }
  if (found.fields.length === 0) {
    problems.push(`${name}: no field is marked invalid`);
  }
  for (const f of found.fields.filter((f) => !f.text)) {
    problems.push(`${name}: invalid field #${f.field} has no message tied to it`);
  }
  return problems;
}

/// WCAG 2.4.7, which axe does not check: Tab through the page; every stop must show its
/// focus (outline or ring on the element, or on the label of a visually hidden input).
async function focusAudit(page, name, url) {
  await page.goto(url);
  const stops = [];
  for (let i = 0; i < 150; i++) {
    await page.keyboard.press("Tab");
    const stop = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body || el.dataset.focusSeen === "first") {
        return null;
      }
      if (el.dataset.focusSeen) {
        // Date inputs take one Tab per part (day, month, year).
        return "again";
      }
      el.dataset.focusSeen = document.querySelector("[data-focus-seen]") ? "yes" : "first";
      const shows = (e) => {
        const st = getComputedStyle(e);
        return (st.outlineStyle !== "none" && parseFloat(st.outlineWidth) > 0) ||
          st.boxShadow !== "none";
      };
      const box = el.getBoundingClientRect();
      const hidden = box.width <= 1 || box.height <= 1;
      const label = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
      const visible = el.matches(":focus-visible") &&
        (hidden ? label !== null && shows(label) : shows(el));
      const text = (el.getAttribute("aria-label") || el.textContent || el.value || "")
        .replace(/\s+/g, " ").trim().slice(0, 40);
      return { what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text}"`, visible };
    });
    if (stop === null) {
      break;
    }
    if (stop !== "again") {
      stops.push(stop);
    }
  }
  const invisible = stops.filter((s) => !s.visible).map((s) => `${name}: focus not visible on ${s.what}`);
  console.log(`    ${name}: ${stops.length} Tab stops, ${invisible.length} without visible focus`);
  return invisible;
}

await scenario("axe-core: no serious or critical violations on any page", async () => {
  const problems = [];
  const page = await newPage({ bypassCSP: true });
  step("the scan itself sees a broken page: a field without its label is critical");
  await page.goto(`${BASE}/anmelden`);
  await page.evaluate(() => document.querySelector("label[for=username]").remove());
  const broken = await scan(page, "login without a label (expected to fail)");
  assert(broken.includes("login without a label (expected to fail): label"),
    `axe did not report the missing label: ${broken}`);

  step("login page");
  problems.push(...await scan(page, "login", `${BASE}/anmelden`));
  problems.push(...await scan(page, "login, tenant in the path", `${BASE}/t/${TENANT}/anmelden`));
  await page.getByLabel("Benutzername").fill(CLERK);
  await page.getByLabel("Passwort").fill("falsch");
  await page.locator("[data-testid=login-form] button[type=submit]").click();
  await page.locator("[data-testid=login-error]").waitFor();
  problems.push(...await scan(page, "login, failed"));

  await login(page, CLERK);
  const pages = [
    ["start page", `${BASE}/arbeitsplatz`],
    ["Aktenplan", `${BASE}/aktenplan`],
    ["Aktenplan, unit", `${BASE}/aktenplan?einheit=${UNIT}`],
    ["Akte", `${BASE}/akten/${FILE}`],
    ["Akte, Vorgang register", `${BASE}/akten/${FILE}?register=${CASE}`],
    ["Akte, history", `${BASE}/akten/${FILE}?register=verlauf`],
    ["Akte create form", `${BASE}/akten/neu?einheit=${UNIT}`],
    ["Akte edit form", `${BASE}/akten/${FILE}/bearbeiten`],
    ["Vorgang form", `${BASE}/akten/${FILE}/vorgaenge/neu`],
    ["Vermerk form", `${BASE}/akten/${FILE}/vermerk?vorgang=${CASE}`],
    ["upload form (no script)", `${BASE}/akten/${FILE}/dokumente/neu?vorgang=${CASE}`],
    ["document, PDF", seen.pdfDocument],
    ["document, text", seen.textDocument],
    ["document, e-mail", seen.mailDocument],
    ["document, image", seen.imageDocument],
    ["search results", seen.search],
    ["search, nothing found", `${BASE}/suche?q=Quittenbaum`],
    ["search, no query", `${BASE}/suche`],
    ["zdA confirmation", `${BASE}/akten/${FILE}/zda`],
    ["closed Akte", seen.closedFile],
    ["reopen form", seen.closedFile && `${seen.closedFile}/wiedereroeffnen`],
    ["error page", `${BASE}/akten/00000000-0000-0000-0000-000000000000`],
  ];
  for (const [name, url] of pages) {
    if (!url) {
      problems.push(`${name}: not reached by the flows`);
      continue;
    }
    step(name);
    problems.push(...await scan(page, name, url));
  }

  step("keyboard focus is visible on every Tab stop");
  for (const [name, url] of [
    ["start page", `${BASE}/arbeitsplatz`],
    ["Aktenplan, unit", `${BASE}/aktenplan?einheit=${UNIT}`],
    ["Akte, Vorgang register", `${BASE}/akten/${FILE}?register=${CASE}`],
    ["document, text", seen.textDocument],
    ["search results", seen.search],
    ["Akte create form", `${BASE}/akten/neu?einheit=${UNIT}`],
  ]) {
    if (url) {
      problems.push(...await focusAudit(page, name, url));
    }
  }

  step("the English UI");
  await page.goto(`${BASE}/sprache/en`);
  problems.push(...await scan(page, "start page, English", `${BASE}/arbeitsplatz`));
  assert(await page.evaluate(() => document.documentElement.lang === "en"), "English page not lang=en");
  problems.push(...await scan(page, "Akte, English", `${BASE}/akten/${FILE}?register=${CASE}`));
  await page.goto(`${BASE}/sprache/de`);

  step("forms with validation messages");
  await page.goto(`${BASE}/akten/neu?einheit=${UNIT}`);
  await page.getByLabel("Betreff").fill("");
  await page.locator("[data-testid=file-form] [data-testid=submit]").click();
  await page.locator("[data-testid=form-errors]").waitFor();
  problems.push(...await scan(page, "Akte create form, errors"));
  problems.push(...await errorsAtFields(page, "Akte create form, errors"));
  await page.goto(`${BASE}/akten/${FILE}/vorgaenge/neu`);
  await page.locator("main [data-testid=submit]").click();
  await page.locator("[data-testid=form-errors]").waitFor();
  problems.push(...await scan(page, "Vorgang form, errors"));
  problems.push(...await errorsAtFields(page, "Vorgang form, errors"));
  await page.goto(`${BASE}/akten/${FILE}/vermerk?vorgang=${CASE}`);
  await page.locator("main [data-testid=submit]").click();
  await page.locator("[data-testid=form-errors]").waitFor();
  problems.push(...await scan(page, "Vermerk form, errors"));
  problems.push(...await errorsAtFields(page, "Vermerk form, errors"));
  await page.goto(`${BASE}/akten/${FILE}/dokumente/neu?vorgang=${CASE}`);
  await page.locator("main [data-testid=submit]").click();
  await page.locator("[data-testid=form-errors]").waitFor();
  problems.push(...await scan(page, "upload form, errors"));
  problems.push(...await errorsAtFields(page, "upload form, errors"));
  if (seen.closedFile) {
    await page.goto(`${seen.closedFile}/wiedereroeffnen`);
    await page.locator("main [data-testid=submit]").click();
    await page.locator("[data-testid=form-errors]").waitFor();
    problems.push(...await scan(page, "reopen form, errors"));
  problems.push(...await errorsAtFields(page, "reopen form, errors"));
  }

  step("Akte with uploads in progress and done");
  await page.goto(`${BASE}/akten/${FILE}?register=${CASE}`);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route(`**/api/v1/cases/${CASE}/documents`, async (route) => {
    await held;
    await route.continue();
  });
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "Lageplan.txt", type: "text/plain", bytes: textFile("Walnussbaum") },
    { name: "Grundbuchauszug.txt", type: "text/plain", bytes: textFile("Flurstück") },
  ]);
  await page.locator("[data-testid=upload-item]").nth(1).waitFor();
  problems.push(...await scan(page, "Akte, uploads running"));
  release();
  await uploadsFinish(page, 2);
  problems.push(...await scan(page, "Akte, after a drop"));
  await page.context().close();

  step("branding page (tenant admin)");
  const admin = await newPage({ bypassCSP: true });
  await login(admin, ADMIN);
  problems.push(...await scan(admin, "branding", `${BASE}/verwaltung/erscheinungsbild`));
  await admin.locator("#accent_color").fill("grün");
  await admin.locator("[data-testid=branding-form] [data-testid=submit]").click();
  await admin.locator("[data-testid=form-errors]").waitFor();
  problems.push(...await scan(admin, "branding, errors"));
  problems.push(...await errorsAtFields(admin, "branding, errors"));
  await admin.context().close();

  assert(problems.length === 0, `accessibility problems:\n  ${problems.join("\n  ")}`);
});

await scenario("branding: the admin sets name, coat of arms and accent; clerks see them", async () => {
  const admin = await newPage();
  await login(admin, ADMIN);
  await admin.locator("nav.main-nav").getByRole("link", { name: "Erscheinungsbild" }).click();
  await admin.locator("[data-testid=branding-form]").waitFor();

  step("a colour too light for white text is refused next to its field");
  await admin.locator("#accent_color").fill("#ffff00");
  await admin.locator("[data-testid=branding-form] [data-testid=submit]").click();
  await admin.locator("[data-testid=accent_color-error]").waitFor();
  assert((await admin.locator("#accent_color").getAttribute("aria-invalid")) === "true",
    "the refused colour's field is not marked invalid");
  // That refusal was answered 422, as it should be.
  admin.problems = admin.problems.filter((p) => !p.startsWith("HTTP 422 "));

  step("save name, logo and a dark accent");
  await admin.locator("#header_name").fill("Stadt Sprockhövel");
  await admin.locator("#accent_color").fill("#7a1f2b");
  await admin.locator("#logo").setInputFiles({ name: "wappen.png", mimeType: "image/png", buffer: pngFile() });
  await admin.locator("[data-testid=branding-form] [data-testid=submit]").click();
  await admin.locator("[data-testid=saved]").waitFor();
  noProblems(admin);
  await admin.context().close();

  step("a clerk sees them in the header");
  const page = await newPage();
  await login(page, CLERK);
  assert((await page.locator("[data-testid=tenant-name]").textContent()).trim() === "Stadt Sprockhövel",
    "the header does not show the tenant's name");
  const logoWidth = await page.locator("[data-testid=tenant-logo]").evaluate((img) => img.naturalWidth);
  assert(logoWidth === 24, `the coat of arms did not load (width ${logoWidth})`);
  const background = await page.locator("header.top").evaluate((h) => getComputedStyle(h).backgroundColor);
  assert(background === "rgb(122, 31, 43)", `the header is ${background}, not the accent`);
  await screenshot(page, "arbeitsplatz-branding");
  noProblems(page);
  await page.context().close();

  step("the town's own login page shows its name and coat of arms (issue 14)");
  const loginPage = await newPage();
  await loginPage.goto(`${BASE}/t/${TENANT}/anmelden`);
  const heading = (await loginPage.locator("h1").textContent()).trim();
  assert(heading.includes("Stadt Sprockhövel"), `login heading: ${heading}`);
  const arms = await loginPage.locator("[data-testid=tenant-logo]").evaluate((img) => img.naturalWidth);
  assert(arms === 24, `the login page's coat of arms did not load (width ${arms})`);
  await screenshot(loginPage, "anmelden-stadt");
  noProblems(loginPage);
  await loginPage.context().close();

  step("axe with the tenant's accent");
  const scanPage = await newPage({ bypassCSP: true });
  await login(scanPage, CLERK);
  const problems = [
    ...await scan(scanPage, "start page, branded", `${BASE}/arbeitsplatz`),
    ...await scan(scanPage, "Akte, branded", `${BASE}/akten/${FILE}?register=${CASE}`),
  ];
  await scanPage.context().close();
  assert(problems.length === 0, `serious or critical violations:\n  ${problems.join("\n  ")}`);
});

await browser.close();
console.log(failures.length === 0
  ? "\nall browser scenarios passed"
  : `\n${failures.length} browser scenario(s) failed: ${failures.join(", ")}`);
process.exit(failures.length === 0 ? 0 : 1);
