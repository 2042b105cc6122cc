// What the browser scripts share: their environment, assertions, Debian's chromium, pages
// that collect script errors and server faults, axe scans, a PDF with a text layer made on the
// spot, and dropping files onto an element as a person would.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (run through: cargo test -p akta --test browser)`);
  }
  return value;
}

export function assert(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/// A one-page PDF with a text layer (Helvetica, one line), as a scanner with OCR delivers it.
export function pdfFile(line) {
  const stream = `BT /F1 18 Tf 72 720 Td (${line}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] " +
      "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
    `<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) {
    out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  }
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/// Drops `files` ({name, type, bytes}) onto `selector`, which must show drop feedback while
/// they are dragged over it.
export async function dropFiles(page, selector, files) {
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    }
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, bytes: [...f.bytes] })));
  await page.dispatchEvent(selector, "dragenter", { dataTransfer: transfer });
  await page.dispatchEvent(selector, "dragover", { dataTransfer: transfer });
  const over = await page.$eval(selector, (el) =>
    el.classList.contains("over") || el.classList.contains("drop-over"));
  assert(over, `${selector} shows no drop feedback while files are dragged over it`);
  await page.dispatchEvent(selector, "drop", { dataTransfer: transfer });
  await transfer.dispose();
}

/// Debian's chromium, headless and quiet.
export async function launchChromium() {
  return chromium.launch({
    executablePath: env("AKTA_CHROMIUM"),
    headless: true,
    args: ["--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-gpu", "--no-first-run"],
  });
}

/// A page in a fresh German context whose `problems` collect script errors and 5xx answers.
export async function freshPage(browser) {
  // axe needs its script in the page; the pages' CSP would block it, so scans bypass the CSP.
  const context = await browser.newContext({ locale: "de-DE", bypassCSP: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`script error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 500) {
      page.problems.push(`HTTP ${r.status()} for ${r.url()} on ${page.url()}`);
    }
  });
  return page;
}

/// Scans the page with axe-core; any violation fails the script.
export async function axeCheck(page, name) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  console.log(`    axe ${name}: ${violations.length} violation(s)`);
  for (const v of violations) {
    console.log(`      [${v.impact}] ${v.id}: ${v.help} (${v.nodes.join(", ")})`);
  }
  assert(violations.length === 0, `${name}: ${violations.map((v) => v.id).join(", ")}`);
}
