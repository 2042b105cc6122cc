// A clerk's working day (issue 14) in Debian's chromium (playwright-core): a scanned letter
// waits in the Posteingang and is filed with its metadata into an existing Akte (clicks
// counted from the login), an item is forwarded to a colleague, search finds Akten by
// Betreff and Aktenzeichen, and an Akte prints like paper (print layout, Aktenauszug PDF read
// back with pdftotext). axe-core scans every page (no serious or critical violations);
// screenshots go to AKTA_SCREENSHOTS. Started by services/akta/tests/browser.rs.
import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { assert, axeCheck, dropFiles, env, freshPage, launchChromium, pdfFile } from "./shared.mjs";



const BASE = env("AKTA_URL");
const TENANT = env("AKTA_TENANT");
const PASSWORD = env("AKTA_PASSWORD");
const CLERK = env("AKTA_CLERK");
const COLLEAGUE = env("AKTA_COLLEAGUE");
const COLLEAGUE_NAME = env("AKTA_COLLEAGUE_NAME");
const CLERK_ID = env("AKTA_CLERK_ID");
const SCANNER_TOKEN = env("AKTA_SCANNER_TOKEN");
const FILE = env("AKTA_FILE");
const FILE_REFERENCE = env("AKTA_FILE_REFERENCE");
const FILE_SUBJECT = env("AKTA_FILE_SUBJECT");
const CASE = env("AKTA_CASE");
const UNIT = env("AKTA_PLAN_UNIT");
const CASE_DOCUMENT = env("AKTA_CASE_DOCUMENT");
const SECOND = env("AKTA_SECOND_COLLEAGUE");
const SECOND_NAME = env("AKTA_SECOND_COLLEAGUE_NAME");
const SCREENSHOTS = env("AKTA_SCREENSHOTS");
mkdirSync(SCREENSHOTS, { recursive: true });


/// What the scanner does: a PDF into a person's Posteingang over REST.
async function scan(name, line, userId) {
  const form = new FormData();
  form.append("metadata", new Blob([JSON.stringify({ user_id: userId })], { type: "application/json" }));
  form.append("file", new Blob([pdfFile(line)], { type: "application/pdf" }), name);
  const r = await fetch(`${BASE}/api/v1/inbox`, {
    method: "POST",
    headers: { Authorization: `Bearer ${SCANNER_TOKEN}` },
    body: form,
  });
  const body = await r.json();
  assert(r.status === 201, `the scanner's delivery failed: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

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
      await lastPage.screenshot({ path: join(SCREENSHOTS, `arbeitstag-failed-${failures.length}.png`), fullPage: true }).catch(() => {});
      await lastPage.context().close();
    }
  }
}

setTimeout(() => {
  console.log(`\nthe working-day browser test timed out at "${currentStep}"`);
  process.exit(2);
}, 4 * 60_000).unref();

const browser = await launchChromium();

async function newPage() {
  const page = await freshPage(browser);
  lastPage = page;
  return page;
}

async function axeScan(page, name) {
  await axeCheck(page, name);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function loginAs(username) {
  const page = await newPage();
  await page.goto(`${BASE}/t/${TENANT}/anmelden`);
  await page.getByLabel("Benutzername").fill(username);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.locator("[data-testid=login-form] button[type=submit]").click();
  await page.waitForURL(`${BASE}/arbeitsplatz`);
  return page;
}

await scenario("Posteingang: a scanned letter filed with its metadata into an Akte in at most 4 clicks", async () => {
  step("the scanner delivers a letter into the clerk's Posteingang");
  const item = await scan("nachbarzustimmung.pdf", "Zustimmung zum Bauvorhaben Musterweg 3", CLERK_ID);
  assert(item.title === "Nachbarzustimmung", `title from the file name: ${item.title}`);

  const page = await newPage();
  let clicks = 0;
  const click = async (locator, what) => {
    clicks += 1;
    console.log(`    click ${clicks}: ${what}`);
    await locator.click();
  };
  step("log in (the login page knows the town from the address)");
  await page.goto(`${BASE}/t/${TENANT}/anmelden`);
  await page.getByLabel("Benutzername").fill(CLERK);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await click(page.locator("[data-testid=login-form] button[type=submit]"), "Anmelden");
  await page.waitForURL(`${BASE}/arbeitsplatz`);
  await page.locator("[data-testid=workplace-inbox-item]", { hasText: "Nachbarzustimmung" }).waitFor();
  await axeScan(page, "workplace with Posteingang");

  step("open the letter from the workplace's Posteingang");
  await click(page.locator("[data-testid=workplace-inbox-item] a", { hasText: "Nachbarzustimmung" }), "the letter");
  await page.waitForURL(`${BASE}/posteingang/${item.id}`);
  await page.locator("[data-testid=preview-pdf]").waitFor();
  await axeScan(page, "Posteingang item");

  step("type the Aktenzeichen: suggestions appear as one types");
  const field = page.locator("#aktenzeichen");
  await field.pressSequentially(FILE_REFERENCE.slice(0, 6), { delay: 30 });
  await page.waitForFunction(
    (ref) => Array.from(document.querySelectorAll("#akten-vorschlaege option")).some((o) => o.value === ref),
    FILE_REFERENCE,
  );
  await field.fill(FILE_REFERENCE);
  await page.locator("#sender").fill("Erika Musterfrau");
  await page.locator("#document_date").fill("2026-11-30");
  await shot(page, "posteingang-eintrag");
  await click(page.locator("[data-testid=inbox-file-submit]"), "Ablegen");
  await page.waitForURL(`${BASE}/posteingang?abgelegt=1`);
  await page.locator("[data-testid=inbox-filed]").waitFor();
  console.log(`    filed from the Posteingang with ${clicks} clicks after opening the login page`);
  assert(clicks <= 4, `filing from the Posteingang took ${clicks} clicks`);
  await axeScan(page, "Posteingang after filing");

  step("the Akte holds the letter with its metadata");
  await page.goto(`${BASE}/akten/${FILE}`);
  const row = page.locator("[data-testid=document-link]", { hasText: "Nachbarzustimmung" });
  await row.waitFor();
  await row.click();
  await page.locator("[data-testid=document-title]", { hasText: "Nachbarzustimmung" }).waitFor();
  const meta = await page.locator("dl.meta").textContent();
  assert(meta.includes("Erika Musterfrau") && meta.includes("30.11.2026"), `metadata: ${meta}`);

  step("a wrong Aktenzeichen is said at the field and loses nothing");
  const second = await scan("rechnung.pdf", "Rechnung Nr. 4711", CLERK_ID);
  await page.goto(`${BASE}/posteingang/${second.id}`);
  await page.locator("#aktenzeichen").fill("99.99-9999/1999");
  await page.locator("[data-testid=inbox-file-submit]").click();
  await page.locator("[data-testid=aktenzeichen-error]").waitFor();
  assert(page.url() === `${BASE}/posteingang/${second.id}`, `the address bar holds ${page.url()}`);
  assert(await page.locator("#title").inputValue() === "Rechnung", "the title was lost");
  await axeScan(page, "Posteingang item with an error");
  await shot(page, "posteingang-fehler");

  step(`forward it to ${COLLEAGUE_NAME}`);
  await page.locator("#colleague").selectOption({ label: COLLEAGUE_NAME });
  await page.locator("#note").fill("Bitte übernehmen, Rechnung für Ihr Verfahren.");
  await page.locator("[data-testid=inbox-forward-submit]").click();
  await page.waitForURL(`${BASE}/posteingang`);
  assert(await page.locator("[data-testid=inbox-row]", { hasText: "Rechnung" }).count() === 0,
    "the forwarded item still waits here");
  await shot(page, "posteingang");
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();

  step(`${COLLEAGUE_NAME} finds it in her Posteingang with the note`);
  const hers = await loginAs(COLLEAGUE);
  await hers.locator("[data-testid=nav-inbox]").click();
  await hers.locator("[data-testid=inbox-row] a", { hasText: "Rechnung" }).click();
  const note = await hers.locator("[data-testid=inbox-note]").textContent();
  assert(note.includes("Bitte übernehmen"), `note: ${note}`);
  await axeScan(hers, "colleague's Posteingang item");
  assert(hers.problems.length === 0, hers.problems.join("\n"));
  await hers.context().close();
});

await scenario("finding: search finds Akten and Vorgänge by Betreff and Aktenzeichen", async () => {
  const page = await loginAs(CLERK);
  for (const q of [FILE_SUBJECT.split(",")[0], FILE_REFERENCE]) {
    step(`search for "${q}"`);
    await page.goto(`${BASE}/suche?q=${encodeURIComponent(q)}`);
    const hit = page.locator("[data-testid=record-hit]", { hasText: FILE_REFERENCE }).first();
    await hit.waitFor();
    const text = await hit.textContent();
    assert(text.includes(FILE_SUBJECT), `the hit lacks the Betreff: ${text}`);
  }
  await shot(page, "suche-akten");
  await axeScan(page, "search with Akten");
  step("a word nothing has: no empty 'similar spellings' line");
  await page.goto(`${BASE}/suche?q=Xylophonquartett`);
  await page.locator("[data-testid=search-results]").waitFor();
  const results = await page.locator("[data-testid=search-results]").textContent();
  assert(!results.includes("ähnliche"), `an empty fuzzy notice: ${results}`);
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await scenario("versions beside a PDF preview: a change note, the current version marked, an identical file pointed out", async () => {
  const page = await loginAs(CLERK);
  await page.goto(`${BASE}/akten/${FILE}`);
  await page.locator("[data-testid=document-link]", { hasText: "Nachbarzustimmung" }).click();
  await page.locator("[data-testid=preview-pdf]").waitFor();
  const docUrl = page.url();

  step("choose a file on the page with the PDF preview and upload it with a change note");
  const second = pdfFile("Zustimmung zum Bauvorhaben Musterweg 3, ergaenzt");
  await page.locator("#version-note").fill("Unterschrift ergänzt");
  await page.locator("#version-file").setInputFiles({ name: "nachbarzustimmung-2.pdf", mimeType: "application/pdf", buffer: second });
  await page.locator("[data-testid=new-version-form] button[type=submit]").click();
  await page.waitForURL(docUrl);
  await page.locator("[data-testid=version-row]").nth(1).waitFor();
  const rows = await page.locator("[data-testid=version-row]").allTextContents();
  assert(rows.length === 2, `${rows.length} versions`);
  assert(rows[0].includes("aktuell") && rows[0].includes("Unterschrift ergänzt"), `newest row: ${rows[0]}`);
  assert(!rows[1].includes("aktuell"), `the old version is marked current: ${rows[1]}`);
  await axeScan(page, "document with versions");
  await shot(page, "dokument-versionen");

  step("the same file again is pointed out, nothing stored");
  await page.locator("#version-file").setInputFiles({ name: "nochmal.pdf", mimeType: "application/pdf", buffer: second });
  await page.locator("[data-testid=new-version-form] button[type=submit]").click();
  await page.locator("[data-testid=identical-version]").waitFor();
  const notice = await page.locator("[data-testid=identical-version]").textContent();
  assert(notice.includes("identisch mit Version 2"), `notice: ${notice}`);
  assert(await page.locator("[data-testid=version-row]").count() === 2, "an identical version was stored");
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});



/// Signs what waits on the start page for `username`, with a comment.
async function signFromStartPage(username, comment) {
  const page = await loginAs(username);
  const item = page.locator("[data-testid=to-sign-item] a", { hasText: "Vermerk Ortstermin" });
  await item.waitFor();
  await axeScan(page, `start page of ${username} with something to sign`);
  await item.click();
  await page.locator("[data-testid=decision-form]").waitFor();
  await page.locator("[data-testid=decision-form] input[name=comment]").fill(comment);
  await page.locator("[data-testid=decision-form] [data-testid=sign]").click();
  await page.waitForURL(/\/dokumente\//);
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
}

async function api(path) {
  const r = await fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${SCANNER_TOKEN}` } });
  assert(r.status === 200, `${path}: HTTP ${r.status}`);
  return r.json();
}

await scenario("filing in one step: each dropped file has its details in a row; a file already in the Akte is pointed out first", async () => {
  const page = await loginAs(CLERK);
  await page.goto(`${BASE}/akten/${FILE}`);
  await page.locator("[data-testid=dropzone]").waitFor();
  step("drop a new drawing and the letter that is already filed");
  await dropFiles(page, "[data-testid=dropzone]", [
    { name: "bauzeichnung_ansicht-nord.pdf", type: "application/pdf", bytes: pdfFile("Ansicht Nord, M 1:100") },
    { name: "zustimmung-kopie.pdf", type: "application/pdf", bytes: pdfFile("Zustimmung zum Bauvorhaben Musterweg 3") },
  ]);
  const rows = page.locator("[data-testid=upload-item]");
  await rows.nth(1).waitFor();
  const title = await rows.nth(0).locator("[data-testid=upload-title]").inputValue();
  assert(title === "Bauzeichnung ansicht-nord", `prefilled title: ${title}`);
  step("the drawing is filed; its details typed in the row are saved with it");
  await page.waitForFunction(() => document.querySelector("[data-testid=upload-item]").dataset.state === "done");
  await rows.nth(0).locator("[data-testid=upload-party]").fill("Architekturbüro Lange");
  await rows.nth(0).locator("[data-testid=upload-party]").press("Tab");
  await rows.nth(0).locator("[data-testid=upload-date]").fill("2026-11-28");
  await rows.nth(0).locator("[data-testid=upload-date]").press("Tab");
  await page.waitForFunction(() => document.querySelector("[data-testid=upload-item] [data-testid=upload-state]").textContent.includes("gespeichert"));
  // Both changes arrive, one after the other (each with the version the last answered).
  await page.waitForFunction(async (file) => {
    const r = await fetch(`/api/v1/files/${file}/documents`, { headers: { Accept: "application/json" } });
    const docs = (await r.json()).items;
    return docs.some((d) => d.title === "Bauzeichnung ansicht-nord" && d.sender === "Architekturbüro Lange" && d.document_date === "2026-11-28");
  }, FILE);
  const state = await rows.nth(0).locator("[data-testid=upload-state]").textContent();
  assert(state.includes("gespeichert"), `the row says: ${state}`);
  step("the copy of the letter waits with a hint, and is not filed");
  const notice = rows.nth(1).locator("[data-testid=upload-identical]");
  await notice.waitFor();
  const hint = await notice.textContent();
  assert(hint.includes("Nachbarzustimmung") && hint.includes("Version 1"), `hint: ${hint}`);
  await axeScan(page, "Akte with upload rows and a duplicate hint");
  await shot(page, "ablegen-in-einem-schritt");
  await notice.locator("[data-testid=upload-skip]").click();
  await page.locator("[data-testid=uploads-done]").click();
  const drawing = page.locator("[data-testid=document-row]", { hasText: "Bauzeichnung ansicht-nord" });
  await drawing.waitFor();
  assert((await drawing.textContent()).includes("Architekturbüro Lange"), `row: ${await drawing.textContent()}`);
  assert(await page.locator("[data-testid=document-row]", { hasText: "Nachbarzustimmung" }).count() === 1,
    "the identical letter was filed again");
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await scenario("Geschäftsgang: a Mitzeichnung by two colleagues in order, then a Verfügung that sets a Wiedervorlage and closes the Vorgang", async () => {
  step("start a Mitzeichnung on the Vermerk: Claudia, then Konrad");
  const page = await loginAs(CLERK);
  await page.goto(`${BASE}/dokumente/${CASE_DOCUMENT}`);
  await page.locator("#gg-kind").selectOption("mitzeichnung");
  await page.getByLabel(COLLEAGUE_NAME).check();
  await page.getByLabel(SECOND_NAME).check();
  await page.locator("#gg-mode").selectOption("nacheinander");
  await page.locator("#gg-note").fill("Bitte mitzeichnen.");
  await page.locator("[data-testid=routing-start]").click();
  await page.locator("[data-testid=routing-state]", { hasText: "läuft" }).waitFor();
  await axeScan(page, "document with a running Mitzeichnung");
  await shot(page, "geschaeftsgang-mitzeichnung");
  await page.context().close();

  step(`${SECOND_NAME} is not asked before ${COLLEAGUE_NAME} has signed`);
  const early = await loginAs(SECOND);
  assert(await early.locator("[data-testid=to-sign-item]").count() === 0, "the second signer was asked first");
  await early.context().close();

  step(`${COLLEAGUE_NAME} signs, then ${SECOND_NAME}`);
  await signFromStartPage(COLLEAGUE, "Einverstanden.");
  await signFromStartPage(SECOND, "Mitgezeichnet.");
  let routings = (await api(`/api/v1/documents/${CASE_DOCUMENT}/routings`)).items;
  assert(routings[0].state === "abgeschlossen", `Mitzeichnung: ${routings[0].state}`);
  assert(routings[0].signers.every((s) => s.state === "gezeichnet"), JSON.stringify(routings[0].signers));

  step("a Verfügung: 1. Schreiben ab, 2. WV 14 Tage, 3. z.d.A., to be signed by Claudia");
  const again = await loginAs(CLERK);
  await again.goto(`${BASE}/dokumente/${CASE_DOCUMENT}`);
  await again.locator("#gg-kind").selectOption("verfuegung");
  await again.getByLabel(COLLEAGUE_NAME).check();
  await again.locator("#gg-steps").fill("1. Schreiben ab\n2. WV 14 Tage\n3. z.d.A.");
  await again.locator("[data-testid=routing-start]").click();
  await again.locator("[data-testid=routing-state]", { hasText: "läuft" }).waitFor();
  await again.context().close();
  await signFromStartPage(COLLEAGUE, "So verfügt.");

  step("Akta carried out the steps: the Vorgang is zdA, a Wiedervorlage in 14 days is set");
  const theCase = await api(`/api/v1/cases/${CASE}`);
  assert(theCase.status === "zdA", `the Vorgang is ${theCase.status}`);
  const wv = (await api(`/api/v1/files/${FILE}/resubmissions`)).items;
  // 14 days from today in Germany (give or take the day boundary between UTC and Berlin).
  const inDays = (d) => Math.round((Date.parse(`${d}T12:00:00Z`) - Date.now()) / 86400_000);
  assert(wv.some((r) => r.note && r.note.includes("WV 14 Tage") && Math.abs(inDays(r.due_on) - 14) <= 1 && r.user_name),
    `Wiedervorlagen: ${JSON.stringify(wv)}`);
  const check = await loginAs(CLERK);
  await check.goto(`${BASE}/akten/${FILE}?register=${CASE}#register`);
  const tab = await check.locator("[data-testid=register-tab]", { hasText: "Bauantrag" }).textContent();
  assert(tab.includes("zdA"), `the register tab of the closed Vorgang: ${tab}`);
  assert(await check.locator("[data-testid=case-resubmission-form]").count() === 0, "a closed Vorgang offers a Wiedervorlage");
  await axeScan(check, "Akte with the closed Vorgang");
  await shot(check, "akte-vorgang-zda");
  assert(check.problems.length === 0, check.problems.join("\n"));
  await check.context().close();
});

await scenario("the start page: recently opened Akten, favourites, a Wiedervorlage for a colleague, a Vertretung; error pages keep the navigation", async () => {
  const page = await loginAs(CLERK);
  step("open the Akte, keep it as a favourite, set a Wiedervorlage for a colleague with a note");
  await page.goto(`${BASE}/akten/${FILE}`);
  await page.locator("[data-testid=favourite-toggle]").click();
  await page.locator("[data-testid=favourite-toggle]", { hasText: "Aus den Favoriten" }).waitFor();
  const today = await page.evaluate(() => {
    const d = new Date(Date.now() + 3600_000);
    return d.toISOString().slice(0, 10);
  });
  await page.locator("#wv-file").fill(today);
  await page.locator("#wv-file-fuer").selectOption({ label: COLLEAGUE_NAME });
  await page.locator("#wv-file-note").fill("Bitte Statik prüfen");
  await page.locator("[data-testid=file-resubmission-form] button[value=set]").click();
  const row = page.locator("[data-testid=resubmission-row]", { hasText: "Bitte Statik prüfen" });
  await row.waitFor();
  assert((await row.textContent()).includes(COLLEAGUE_NAME), `row: ${await row.textContent()}`);
  await axeScan(page, "Akte with Wiedervorlagen for people");
  await shot(page, "akte-wiedervorlagen");

  step("the start page lists the Akte as recently opened and as a favourite");
  await page.goto(`${BASE}/arbeitsplatz`);
  const opened = await page.locator("[data-testid=recently-opened]").textContent();
  assert(opened.includes(FILE_REFERENCE), `recently opened: ${opened}`);
  const favs = await page.locator("[data-testid=favourites]").textContent();
  assert(favs.includes(FILE_REFERENCE), `favourites: ${favs}`);
  await axeScan(page, "start page with recent Akten and favourites");
  await shot(page, "arbeitsplatz-tag");

  step("an unknown page and a form's address keep the header, navigation and a Fehlerkennung");
  await page.goto(`${BASE}/akten/00000000-0000-4000-8000-000000000000`);
  assert(await page.locator("nav.main-nav").isVisible(), "the 404 page lost the navigation");
  const text404 = await page.locator("main").textContent();
  assert(text404.includes("Fehlerkennung") && !text404.includes("Vorgangsnummer"), `404 page: ${text404}`);
  await axeScan(page, "404 page");
  await shot(page, "fehlerseite");
  await page.goto(`${BASE}/akten/${FILE}/wiedervorlage`);
  const text405 = await page.locator("main").textContent();
  assert(text405.includes("nimmt nur ausgefüllte Formulare entgegen"), `405 page: ${text405}`);
  assert(await page.locator("nav.main-nav").isVisible(), "the 405 page lost the navigation");
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();

  step(`Vertretung: ${SECOND_NAME} stands in for the clerk and sees her Posteingang`);
  const away = await loginAs(CLERK);
  const until = await away.evaluate(() => new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10));
  await away.locator("#deputy").selectOption({ label: SECOND_NAME });
  await away.locator("#deputy-until").fill(until);
  await away.locator("[data-testid=deputy-form] button[type=submit]").click();
  await away.locator("[data-testid=deputy]", { hasText: SECOND_NAME }).waitFor();
  await axeScan(away, "start page with a Vertretung");
  await away.context().close();
  await scan("widerspruch.pdf", "Widerspruch gegen den Bescheid", CLERK_ID);
  const deputy = await loginAs(SECOND);
  await deputy.locator("[data-testid=workplace-inbox-item]", { hasText: "Widerspruch" }).waitFor();
  const standing = await deputy.locator("[data-testid=deputies]").textContent();
  assert(standing.includes("Ich vertrete"), `deputy section: ${standing}`);
  await shot(deputy, "arbeitsplatz-vertretung");
  await deputy.context().close();

  step("a second Akte with the same Betreff is pointed out; the form keeps its own address");
  const form = await loginAs(CLERK);
  await form.goto(`${BASE}/akten/neu?einheit=${UNIT}`);
  await form.locator("#subject").fill(FILE_SUBJECT.toLowerCase());
  await form.locator("[data-testid=submit]").click();
  await form.locator("[data-testid=duplicate-subject]").waitFor();
  const duplicate = await form.locator("[data-testid=duplicate-subject]").textContent();
  assert(duplicate.includes(FILE_REFERENCE), `duplicate hint: ${duplicate}`);
  assert(form.url() === `${BASE}/akten/neu?einheit=${UNIT}`, `the address bar holds ${form.url()}`);
  await axeScan(form, "new Akte with a duplicate Betreff");
  await shot(form, "akte-doppelter-betreff");
  step("the new-Vorgang form says for which Akte");
  await form.goto(`${BASE}/akten/${FILE}/vorgaenge/neu`);
  const heading = (await form.locator("h1").textContent()).trim();
  assert(heading === `Neuer Vorgang in ${FILE_REFERENCE}`, `heading: ${heading}`);
  await axeScan(form, "new Vorgang");
  await form.context().close();

  step(`${COLLEAGUE_NAME} finds the Wiedervorlage with its note on her start page`);
  const hers = await loginAs(COLLEAGUE);
  const due = await hers.locator("[data-testid=due-resubmissions]").textContent();
  assert(due.includes("Bitte Statik prüfen"), `her due list: ${due}`);
  await hers.context().close();
});

await scenario("the file reads like paper: Aktendeckel and Inhaltsverzeichnis as PDF, a print layout", async () => {
  const page = await loginAs(CLERK);
  await page.goto(`${BASE}/akten/${FILE}`);

  step("the Verlauf reads in sentences: names, titles, version numbers");
  await page.goto(`${BASE}/akten/${FILE}?register=verlauf#register`);
  const history = await page.locator("[data-testid=history]").textContent();
  for (const expected of ["Paula Peters", "hat „Nachbarzustimmung“ aus dem Posteingang abgelegt.",
    "hat Version 2 von „Nachbarzustimmung“ abgelegt.", "hat eine Wiedervorlage zum"]) {
    assert(history.includes(expected), `the Verlauf lacks "${expected}":\n${history}`);
  }
  await axeScan(page, "Verlauf");
  await shot(page, "akte-verlauf");
  await page.goto(`${BASE}/akten/${FILE}`);

  step("the Akte's printout shows the record, not the application");
  await page.emulateMedia({ media: "print" });
  assert(!(await page.locator("header.top").isVisible()), "the print layout shows the page header");
  assert(!(await page.locator("nav.main-nav").isVisible()), "the print layout shows the navigation");
  assert(await page.locator("[data-testid=file-reference]").isVisible(), "the print layout hides the Aktenzeichen");
  await shot(page, "akte-druckansicht");
  await page.emulateMedia({ media: "screen" });

  step("the Aktenauszug (PDF) holds Aktenzeichen, Betreff and the Inhaltsverzeichnis");
  const href = await page.locator("[data-testid=aktenauszug]").getAttribute("href");
  const reply = await page.request.get(`${BASE}${href}`);
  assert(reply.status() === 200, `Aktenauszug: HTTP ${reply.status()}`);
  assert(reply.headers()["content-type"] === "application/pdf", `type ${reply.headers()["content-type"]}`);
  const pdf = join(SCREENSHOTS, "aktenauszug.pdf");
  writeFileSync(pdf, await reply.body());
  const text = execFileSync("pdftotext", ["-layout", pdf, "-"]).toString("utf8");
  for (const expected of [FILE_REFERENCE, FILE_SUBJECT, "Aktendeckel", "Inhaltsverzeichnis",
    "Nachbarzustimmung", "Erika Musterfrau", "30.11.2026", "Bauantrag"]) {
    assert(text.includes(expected), `the Aktenauszug lacks "${expected}":\n${text}`);
  }
  assert(page.problems.length === 0, page.problems.join("\n"));
  await page.context().close();
});

await browser.close();
if (failures.length > 0) {
  console.log(`\n${failures.length} scenario(s) failed: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("\nall working-day scenarios passed");
