// The archivist's day in Debian's chromium (playwright-core): the Akten due for Aussonderung,
// the offer (0501), the archive's rating (0502) loaded, the transfer with the documents
// (0503), the archive's import confirmation (0506), and the Löschprotokoll; a broken message
// is refused with its reason. axe-core scans every page (no serious or critical violations).
// Started by services/akta/tests/browser.rs; the archive's messages are written here from the
// xdomea 3.1.0 specification, as an archive would send them.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assert, env } from "./shared.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");


const BASE = env("AKTA_URL");
const TENANT = env("AKTA_TENANT");
const PASSWORD = env("AKTA_PASSWORD");
const ARCHIVIST = env("AKTA_ARCHIVIST");
// The two due Akten: the archive takes the first and rates the second V.
const [TAKEN, REJECTED] = env("AKTA_DUE_IDS").split(",");
const [TAKEN_REF, REJECTED_REF] = env("AKTA_DUE_REFS").split(",");
const SCREENSHOTS = env("AKTA_SCREENSHOTS");
mkdirSync(SCREENSHOTS, { recursive: true });

let currentStep = "";
function step(text) {
  currentStep = text;
  console.log(`  · ${text}`);
}

setTimeout(() => {
  console.log(`\narchive browser test timed out at "${currentStep}"`);
  process.exit(2);
}, 4 * 60_000).unref();

const NS = 'xmlns:xdomea="urn:xoev-de:xdomea:schema:3.1.0"';

function kopf(processId, code, name) {
  return `<xdomea:Kopf>
    <xdomea:ProzessID>${processId}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>${code}</code><name>${name}</name></xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2026-12-05T10:00:00+01:00</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Landesarchiv NRW</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>`;
}

function rating(id, code) {
  return `<xdomea:BewertetesObjekt><xdomea:ID>${id}</xdomea:ID><xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0"><code>${code}</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>`;
}

function message0502(processId) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Aussonderung.Bewertungsverzeichnis.0502 ${NS}>
  ${kopf(processId, "0502", "Aussonderung.Bewertungsverzeichnis")}
    <xdomea:Empfangsbestaetigung>1</xdomea:Empfangsbestaetigung>
  </xdomea:Kopf>
  ${rating(TAKEN, "A")}
  ${rating(REJECTED, "V")}
</xdomea:Aussonderung.Bewertungsverzeichnis.0502>`;
}

function message0506(processId) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Aussonderung.AussonderungImportBestaetigen.0506 ${NS}>
  ${kopf(processId, "0506", "Aussonderung.AussonderungImportBestaetigen")}
  </xdomea:Kopf>
  <xdomea:AusgesondertesSGO>
    <xdomea:IDSGO>${TAKEN}</xdomea:IDSGO>
    <xdomea:Erfolgreich>1</xdomea:Erfolgreich>
    <xdomea:Archivkennung>LAV NRW, Best. 512 Nr. 4711</xdomea:Archivkennung>
  </xdomea:AusgesondertesSGO>
</xdomea:Aussonderung.AussonderungImportBestaetigen.0506>`;
}

const browser = await chromium.launch({
  executablePath: env("AKTA_CHROMIUM"),
  headless: true,
  args: ["--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-gpu", "--no-first-run"],
});
// axe needs its script in the page; the pages' CSP would block it, so scans bypass the CSP.
const context = await browser.newContext({ locale: "de-DE", acceptDownloads: true, bypassCSP: true });
context.setDefaultTimeout(15_000);
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));

async function scan(name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  console.log(`    axe ${name}: ${violations.length} violation(s), ${serious.length} serious or critical`);
  for (const v of violations) {
    console.log(`      [${v.impact}] ${v.id}: ${v.help} (${v.nodes.join(", ")})`);
  }
  assert(serious.length === 0, `${name}: ${serious.map((v) => v.id).join(", ")}`);
}

async function download(testid) {
  const [file] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(`[data-testid=${testid}]`).click(),
  ]);
  return readFileSync(await file.path());
}

async function load(name, body) {
  await page.locator("#nachricht").setInputFiles({ name, mimeType: "application/xml", buffer: Buffer.from(body, "utf8") });
  await page.locator("[data-testid=upload-message]").click();
  await page.waitForLoadState("load");
}

let failed = false;
try {
  step(`log in as the archivist ${ARCHIVIST}`);
  await page.goto(`${BASE}/t/${TENANT}/anmelden`);
  await page.getByLabel("Benutzername").fill(ARCHIVIST);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.locator("[data-testid=login-form] button[type=submit]").click();
  await page.waitForURL(`${BASE}/arbeitsplatz`);

  step("the Akten due for Aussonderung");
  await page.locator("[data-testid=nav-archive]").click();
  await page.waitForURL(`${BASE}/aussonderung`);
  const due = await page.locator("[data-testid=due-row]").allTextContents();
  assert(due.some((r) => r.includes(TAKEN_REF)) && due.some((r) => r.includes(REJECTED_REF)),
    `the due list lacks the Akten: ${due.join(" | ")}`);
  await page.screenshot({ path: join(SCREENSHOTS, "archiv-faellig.png"), fullPage: true });
  await scan("due list");

  step("offer both to the archive");
  await page.locator(`input[name=akte][value="${TAKEN}"]`).check();
  await page.locator(`input[name=akte][value="${REJECTED}"]`).check();
  await page.locator("[data-testid=offer]").click();
  await page.waitForURL(/\/aussonderung\/[0-9a-f-]{36}$/);
  const processId = page.url().split("/").pop();
  assert((await page.locator("[data-testid=transfer-state]").textContent()).trim() === "angeboten",
    "the new transfer is not 'angeboten'");
  await scan("transfer, offered");

  step("download the Anbieteverzeichnis (0501)");
  const offer = (await download("download-0501")).toString("utf8");
  assert(offer.includes(`<xdomea:ProzessID>${processId}</xdomea:ProzessID>`), "the 0501 names another process");
  assert(offer.includes(TAKEN_REF) && offer.includes(REJECTED_REF), "the 0501 lacks an Akte");

  step("a broken message is refused with its reason");
  await load("kaputt.xml", "<xdomea:Aussonderung.Bewertungsverzeichnis.0502 " + NS + "><unclosed>");
  const refused = (await page.locator("[data-testid=refused]").textContent()).trim();
  assert(refused.includes("nichts wurde geändert") && refused.includes("line"), `refusal: ${refused}`);
  await scan("transfer, message refused");

  step("load the archive's rating (0502)");
  await load("bewertung.xml", message0502(processId));
  await page.locator("[data-testid=received]").waitFor();
  assert((await page.locator("[data-testid=transfer-state]").textContent()).trim() === "bewertet",
    "the transfer is not 'bewertet' after the rating");
  await scan("transfer, appraised");

  step("download the receipt (0505) and the Aussonderung (0503) with the documents");
  const receipt = (await download("download-0505")).toString("utf8");
  assert(receipt.includes("Aussonderung.BewertungEmpfangBestaetigen.0505"), "not a 0505");
  const zip = await download("download-0503");
  assert(zip.subarray(0, 4).toString("latin1") === "PK\u0003\u0004", "the 0503 is not a zip");
  assert((await page.locator("[data-testid=transfer-state]").textContent()).trim() === "bewertet",
    "the page changed without a reload");

  step("load the archive's import confirmation (0506)");
  await load("import.xml", message0506(processId));
  await page.locator("[data-testid=received]").waitFor();
  assert((await page.locator("[data-testid=transfer-state]").textContent()).trim() === "abgeschlossen",
    "the transfer is not finished after the import confirmation");
  await page.screenshot({ path: join(SCREENSHOTS, "archiv-abgeschlossen.png"), fullPage: true });
  await scan("transfer, finished");

  step("the Löschprotokoll names both Akten");
  await page.goto(`${BASE}/loeschprotokoll`);
  const rows = await page.locator("[data-testid=protocol-row]").allTextContents();
  assert(rows.length === 2, `${rows.length} protocol rows`);
  assert(rows.some((r) => r.includes(TAKEN_REF) && r.includes("archiviert") && r.includes("Best. 512")),
    `no 'archiviert' entry: ${rows.join(" | ")}`);
  assert(rows.some((r) => r.includes(REJECTED_REF) && r.includes("vernichtet")),
    `no 'vernichtet' entry: ${rows.join(" | ")}`);
  await page.screenshot({ path: join(SCREENSHOTS, "archiv-loeschprotokoll.png"), fullPage: true });
  await scan("Löschprotokoll");

  step("the due list is empty now");
  await page.goto(`${BASE}/aussonderung`);
  await page.locator("[data-testid=none-due]").waitFor();
  assert(problems.length === 0, `the pages reported problems:\n${problems.join("\n")}`);
  console.log("✔ the archivist's Aussonderung");
} catch (e) {
  failed = true;
  console.log(`✘ the archivist's Aussonderung: failed at "${currentStep}"\n${e && e.stack ? e.stack : e}`);
  await page.screenshot({ path: join(SCREENSHOTS, "archiv-failed.png"), fullPage: true }).catch(() => {});
}
await browser.close();
process.exit(failed ? 1 : 0);
