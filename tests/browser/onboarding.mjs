// A new town in minutes (issue 13) in Debian's chromium (playwright-core): the operator logs
// into the console, onboards a town from the built-in Aktenplan template with its branding
// (name, SVG coat of arms, accent colour, host name), opens the invitation link; the invited
// admin sets a password and adds a clerk, who logs in on the town's page, files a document into
// a new Akte and finds it by search. The time from the console's login page to the search hit
// is printed and held under 10 minutes.
// axe-core scans every console page and the invitation page. Started by
// services/akta/tests/browser.rs.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assert, axeCheck, env, freshPage, launchChromium } from "./shared.mjs";


const BASE = env("AKTA_URL");
const OPERATOR = env("AKTA_OPERATOR");
const PASSWORD = env("AKTA_PASSWORD");
const SCREENSHOTS = env("AKTA_SCREENSHOTS");
mkdirSync(SCREENSHOTS, { recursive: true });

const LIMIT_SECONDS = 600;
let currentStep = "";
let lastPage = null;

function step(text) {
  currentStep = text;
  console.log(`  · ${text}`);
}

setTimeout(() => {
  console.log(`\nthe onboarding browser test timed out at "${currentStep}"`);
  process.exit(2);
}, 4 * 60_000).unref();

const browser = await launchChromium();

async function newPage() {
  const page = await freshPage(browser);
  lastPage = page;
  return page;
}

const scanned = [];
async function axeScan(page, name) {
  await axeCheck(page, name);
  scanned.push(name);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const WAPPEN = Buffer.from(
  `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 48" width="40" height="48">
  <path d="M2 2h36v22c0 12-9 19-18 22C11 43 2 36 2 24z" fill="#8a1538" stroke="#ffffff" stroke-width="2"/>
  <path d="M12 14h16v4H12zM18 10h4v24h-4z" fill="#ffffff"/>
</svg>
`, "utf8");

let failed = false;
const started = Date.now();
try {
  const console_ = await newPage();
  const page = console_;

  step("the operator opens the console's login page and logs in");
  await page.goto(`${BASE}/betrieb`);
  await page.waitForURL(`${BASE}/betrieb/anmelden`);
  await axeScan(page, "console login");
  await page.getByLabel("Benutzername").fill(OPERATOR);
  await page.getByLabel("Passwort").fill(PASSWORD);
  await page.locator("[data-testid=console-login-form] button[type=submit]").click();
  await page.waitForURL(`${BASE}/betrieb/mandanten`);
  await axeScan(page, "console tenants");

  step("onboard a town: a mistake first, said at its field");
  await page.locator("[data-testid=nav-onboard]").click();
  await page.waitForURL(`${BASE}/betrieb/mandanten/neu`);
  await axeScan(page, "console onboarding form");
  await page.getByLabel("Name", { exact: true }).fill("Stadt Gevelsberg");
  await page.locator("#slug").fill("gevelsberg");
  await page.locator("#host_name").fill("akta.gevelsberg.example");
  await page.locator("#plan").selectOption("kgst-kommunal");
  await page.locator("#header_name").fill("Stadt Gevelsberg – E-Akte");
  await page.locator("#accent_color").fill("#ffee00");
  await page.locator("#admin_email").fill("it@gevelsberg.example");
  await page.locator("[data-testid=onboard-form] [data-testid=submit]").click();
  await page.locator("[data-testid=accent_color-error]").waitFor();
  assert(page.url() === `${BASE}/betrieb/mandanten/neu`, `the address bar holds ${page.url()}`);
  assert(await page.locator("#slug").inputValue() === "gevelsberg", "the form lost the slug");
  await axeScan(page, "console onboarding form with an error");

  step("the town with the template, its colour and coat of arms");
  await page.locator("#accent_color").fill("#8a1538");
  await page.locator("#logo").setInputFiles({ name: "wappen.svg", mimeType: "image/svg+xml", buffer: WAPPEN });
  await page.locator("[data-testid=onboard-form] [data-testid=submit]").click();
  await page.locator("[data-testid=created]").waitFor();
  const created = await page.locator("[data-testid=created]").textContent();
  assert(/Aktenplan hat \d+ Einheiten/.test(created), `no plan: ${created}`);
  const link = await page.locator("[data-testid=invitation-link]").getAttribute("href");
  assert(link.startsWith(`${BASE}/einladung/`), `invitation link ${link}`);
  await axeScan(page, "console town created");
  await shot(page, "betrieb-stadt-angelegt");

  step("the town in the console: figures, audit chain, support access, quota");
  await page.goto(`${BASE}/betrieb/mandanten/gevelsberg`);
  assert((await page.locator("[data-testid=audit-status]").textContent()).includes("Prüfkette intakt"),
    "the audit chain is not intact");
  await axeScan(page, "console tenant");
  await page.locator("#max_documents").fill("viele");
  await page.locator("[data-testid=quota-form] button[type=submit]").click();
  await page.locator("[data-testid=form-errors]").waitFor();
  await axeScan(page, "console tenant with an error");
  await page.locator("[data-testid=nav-plans]").click();
  await page.waitForURL(`${BASE}/betrieb/aktenplaene`);
  await axeScan(page, "console Aktenpläne");
  await page.locator("[data-testid=nav-usage]").click();
  await page.waitForURL(`${BASE}/betrieb/nutzung`);
  await page.locator("[data-testid=usage-row][data-slug=gevelsberg]").waitFor();
  await axeScan(page, "console Nutzung");
  await page.goto(`${BASE}/betrieb/mandanten`);
  await page.locator("[data-testid=tenant-row][data-slug=gevelsberg]").waitFor();
  await shot(page, "betrieb-mandanten");

  step("the invited admin opens the link and sets a password");
  const admin = await newPage();
  await admin.goto(link);
  await admin.locator("[data-testid=invitation-form]").waitFor();
  await axeScan(admin, "invitation");
  await admin.getByLabel("Ihr Name").fill("Greta Gerber");
  await admin.locator("#username").fill("greta.gerber");
  await admin.locator("#password").fill(PASSWORD);
  await admin.locator("#password2").fill(`${PASSWORD}x`);
  await admin.locator("[data-testid=invitation-form] [data-testid=submit]").click();
  await admin.locator("[data-testid=form-errors]").waitFor();
  await axeScan(admin, "invitation with an error");
  await admin.locator("#password").fill(PASSWORD);
  await admin.locator("#password2").fill(PASSWORD);
  await admin.locator("[data-testid=invitation-form] [data-testid=submit]").click();
  await admin.waitForURL(`${BASE}/arbeitsplatz`);

  step("the header shows the town's branding");
  assert((await admin.locator("[data-testid=tenant-name]").textContent()).includes("Stadt Gevelsberg – E-Akte"),
    "the header lacks the town's name");
  await admin.locator("[data-testid=tenant-logo]").waitFor();
  const logoOk = await admin.locator("[data-testid=tenant-logo]").evaluate((img) => img.complete && img.naturalWidth > 0);
  assert(logoOk, "the coat of arms did not load");
  const accent = await admin.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--accent").trim());
  assert(accent === "#8a1538", `accent colour ${accent}`);
  await shot(admin, "neue-stadt-arbeitsplatz");

  step("a second visit of the link: used");
  const again = await newPage();
  await again.goto(link);
  await again.locator("[data-testid=invitation-used]").waitFor();
  await axeScan(again, "invitation used");
  await again.context().close();

  step("the admin adds a clerk (REST with the session, as the town's IT would script it)");
  const clerkCreated = await admin.evaluate(async (password) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const r = await fetch("/api/v1/users", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ username: "paul.sachbearbeiter", display_name: "Paul Sachbearbeiter",
        role: "clerk", password }),
    });
    return r.status;
  }, PASSWORD);
  assert(clerkCreated === 201, `creating the clerk answered ${clerkCreated}`);
  const clerk = await newPage();
  // The town's own login page (its host name would lead there too).
  await clerk.goto(`${BASE}/t/gevelsberg/anmelden`);
  await clerk.locator("#username").fill("paul.sachbearbeiter");
  await clerk.locator("#password").fill(PASSWORD);
  await clerk.locator("main form button[type=submit]").first().click();
  await clerk.waitForURL(`${BASE}/arbeitsplatz`);

  step("the clerk files a document into a new Akte under 63.01 Baugenehmigungen");
  await clerk.getByRole("link", { name: "Aktenplan" }).first().click();
  await clerk.locator("[data-testid=plan-unit]", { hasText: "63.01" }).click();
  await clerk.locator("[data-testid=new-file]").click();
  await clerk.getByLabel("Betreff").fill("Neubau Feuerwache Nord, Hagener Straße 12");
  await clerk.locator("[data-testid=file-form] [data-testid=submit]").click();
  await clerk.locator("[data-testid=file-view]").waitFor();
  const reference = (await clerk.locator("[data-testid=file-reference]").textContent()).trim();
  assert(reference.startsWith("63.01-"), `Aktenzeichen ${reference}`);
  await clerk.locator("[data-testid=upload-document]").click();
  await clerk.locator("#title").fill("Bauantrag Feuerwache");
  await clerk.locator("#file").setInputFiles({
    name: "bauantrag.txt", mimeType: "text/plain",
    buffer: Buffer.from("Bauantrag für die Feuerwache Nord mit Fahrzeughalle.\n", "utf8"),
  });
  await clerk.locator("main [data-testid=submit]").click();
  await clerk.locator("[data-testid=document-link]", { hasText: "Bauantrag Feuerwache" }).waitFor();

  step("the clerk's search finds it");
  const deadline = Date.now() + 15_000;
  for (;;) {
    await clerk.locator("#top-q").fill("Feuerwache");
    await clerk.locator("[data-testid=header-search] button[type=submit]").click();
    await clerk.waitForURL(/\/suche\?/);
    if ((await clerk.locator("[data-testid=search-hit]", { hasText: "Bauantrag Feuerwache" }).count()) > 0) {
      break;
    }
    assert(Date.now() < deadline, "the document was not found within 15 s");
    await clerk.waitForTimeout(300);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`    a new town from nothing to its first searchable document: ${seconds.toFixed(1)} s`);
  assert(seconds < LIMIT_SECONDS, `onboarding took ${seconds.toFixed(1)} s (limit ${LIMIT_SECONDS} s)`);
  await shot(clerk, "neue-stadt-suche");
  for (const p of [page, admin, clerk]) {
    assert(p.problems.length === 0, p.problems.join("\n"));
  }
  console.log(`\nscanned with axe: ${scanned.join("; ")}`);
} catch (e) {
  failed = true;
  console.log(`✘ failed at "${currentStep}"\n${e && e.stack ? e.stack : e}`);
  if (lastPage && !lastPage.isClosed()) {
    console.log(`  the page was ${lastPage.url()}`);
    await lastPage.screenshot({ path: join(SCREENSHOTS, "onboarding-failed.png"), fullPage: true }).catch(() => {});
  }
}

await browser.close();
if (failed) {
  process.exit(1);
}
console.log("\nthe onboarding scenario passed");
