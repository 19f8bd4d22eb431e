// Opens pages of the built site in Debian's Chromium (driven by playwright-core, no downloaded
// browser) at real CSS-pixel viewports, runs axe-core in each, measures the layout, and prints
// one JSON document on stdout. tests/test_site_browser.py runs it and asserts on the result.
//
//   node tests/browser/axe.mjs --chromium PATH --site DIR [--pages a.html,vi/index.html]
//        [--widths 1280,390] [--shots DIR]
//
// For each page and width: axe violations (id, impact, node count, first target), the page's
// scrollWidth against the viewport, each <table>'s right edge and whether a scrolling box holds
// it, "squeezed" cells (a column so narrow that its words stack one per line), "clipped" parts
// of a scrolling table (its caption, first column or key columns cut by the box's edge), the
// smallest text each SVG chart draws at the size the page shows it, images that did not
// decode, console errors (a script or style the page's Content-Security-Policy refused among
// them), the page's title and its policy.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const AXE = require.resolve("axe-core/axe.min.js");

const { values: opts } = parseArgs({
  options: {
    chromium: { type: "string" },
    site: { type: "string" },
    pages: { type: "string", default: "index.html,vi/index.html,en/index.html" },
    widths: { type: "string", default: "1280,390" },
    shots: { type: "string" },
  },
});
if (!opts.chromium || !opts.site) {
  console.error("usage: axe.mjs --chromium PATH --site DIR [--pages ...] [--widths ...] [--shots DIR]");
  process.exit(2);
}
const HEIGHTS = { 390: 844 };

// Runs in the page: geometry of the document, its tables and its table cells.
function measure() {
  // Folded sections (<details>) are measured open, as a reader who opens them sees them.
  const folded = [...document.querySelectorAll("details:not([open])")];
  for (const details of folded) details.open = true;
  const root = document.documentElement;
  const viewport = root.clientWidth; // the layout viewport, without a classic scrollbar
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === "auto" || ox === "scroll" || ox === "hidden") return p;
    }
    return null;
  };
  const label = (table) =>
    ((table.caption && table.caption.textContent) || table.className || "table").trim().slice(0, 80);
  const lines = (cell) => {
    // Line boxes the cell's text occupies, less those its <br>s start on purpose: the text
    // fragments' rectangles, a new line wherever one starts below the previous line's middle.
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const rects = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) rects.push(r);
    }
    rects.sort((a, b) => a.top - b.top);
    let count = 0;
    let middle = -Infinity; // of the line counted last
    for (const r of rects) {
      if (r.top >= middle) count += 1;
      middle = r.top >= middle ? r.top + r.height / 2 : Math.max(middle, r.top + r.height / 2);
    }
    return Math.max(1, count - cell.querySelectorAll("br").length);
  };
  // A scrolling table's parts a reader must see without scrolling: its caption's text, its
  // first column and the cells marked as its key ("key": the summary's test metric, an
  // architecture's parameters), each inside the box's visible width with the box scrolled to
  // its start; and, where the first column holds the rows' headers, the caption and that
  // column with the box scrolled to its end too (they stay in view while the rest scrolls).
  const clipped = [];
  const textRects = (el) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0 && r.height > 0) out.push(r);
    }
    return out;
  };
  const clipping = (table, scroller) => {
    const headed = [...table.tBodies].some((body) => body.rows[0] && body.rows[0].cells[0] &&
                                                     body.rows[0].cells[0].tagName === "TH");
    const firstColumn = [...table.rows].map((row) => row.cells[0]).filter(
      (cell) => cell && cell.colSpan === 1 && cell.textContent.trim());
    const saved = scroller.scrollLeft;
    const ends = [["start", 0]];
    if (scroller.scrollWidth > scroller.clientWidth + 1) {
      ends.push(["end", scroller.scrollWidth]);
    }
    for (const [at, left] of ends) {
      scroller.scrollLeft = left;
      const box = scroller.getBoundingClientRect();
      const from = box.left + scroller.clientLeft - 1;
      const to = box.left + scroller.clientLeft + scroller.clientWidth + 1;
      const inside = (r) => r.left >= from && r.right <= to;
      const parts = [];
      if (at === "start" || headed) {
        if (table.caption) parts.push(["caption", textRects(table.caption), table.caption]);
        for (const cell of firstColumn) parts.push(["first column", [cell.getBoundingClientRect()], cell]);
      }
      if (at === "start") {
        for (const cell of table.querySelectorAll("th.key, td.key")) {
          parts.push(["key column", [cell.getBoundingClientRect()], cell]);
        }
      }
      for (const [what, rects, el] of parts) {
        if (rects.every(inside)) continue;
        clipped.push({ table: label(table), what, at, text: el.textContent.replace(/\s+/g, " ").trim().slice(0, 60) });
      }
    }
    scroller.scrollLeft = saved;
  };
  const tables = [];
  const squeezed = [];
  for (const [index, table] of [...document.querySelectorAll("table")].entries()) {
    const box = table.getBoundingClientRect();
    const scroller = scrolls(table);
    const scrollerRight = scroller ? scroller.getBoundingClientRect().right : null;
    tables.push({
      index,
      label: label(table),
      width: Math.round(box.width),
      right: Math.round(box.right),
      inScroller: Boolean(scroller),
      scrollerRight: scrollerRight === null ? null : Math.round(scrollerRight),
      // Sticks out of the page: past the viewport with no scrolling box, or its scrolling box
      // itself past the viewport.
      overflows: scroller ? scrollerRight > viewport + 1 : box.right > viewport + 1,
    });
    if (scroller && table.getClientRects().length) clipping(table, scroller);
    for (const cell of table.querySelectorAll("th, td")) {
      if (cell.querySelector("code.hash")) continue; // a hash breaks anywhere by design
      const text = cell.textContent.replace(/\s+/g, " ").trim();
      const words = text ? text.split(" ").filter((w) => /[\p{L}\p{N}]/u.test(w)).length : 0;
      if (words < 2) continue;
      const width = cell.getBoundingClientRect().width;
      const n = lines(cell);
      // Three or more words wrapped to about one a line (under 1.5 on average), or a
      // multi-word cell wrapped in under 60 px.
      if (n >= 2 && ((words >= 3 && words / n < 1.5) || width < 60)) {
        squeezed.push({ table: label(table), text: text.slice(0, 60), words, lines: n,
                        width: Math.round(width) });
      }
    }
  }
  // What sticks out of the page: the outermost elements past the viewport's right edge that
  // no scrolling box holds, one per box that lets them out (a <pre> shows up once, not once
  // per line of code).
  const sticksOut = (el) => el.getBoundingClientRect().right > viewport + 1 && !scrolls(el);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") +
    (typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "");
  const holders = new Map();
  for (const el of document.body.querySelectorAll("*")) {
    if (!sticksOut(el) || (el.parentElement && sticksOut(el.parentElement))) continue;
    if (holders.has(el.parentElement)) continue;
    holders.set(el.parentElement, { element: name(el), holder: name(el.parentElement),
      right: Math.round(el.getBoundingClientRect().right),
      text: el.textContent.replace(/\s+/g, " ").trim().slice(0, 60) });
  }
  const wide = [...holders.values()].slice(0, 10);
  for (const details of folded) details.open = false;
  // Each SVG image shown, at the width it is drawn and its own (the text inside it is measured
  // from the file: chartText below).
  const charts = [...document.images]
    .filter((i) => /\.svg$/i.test(new URL(i.currentSrc || i.src).pathname) && i.getClientRects().length)
    .map((i) => ({ src: i.currentSrc || i.src, shown: i.getBoundingClientRect().width,
                   natural: i.naturalWidth }));
  // Navigation without script: no <script> and no inline handler; every chapter and section
  // (a section with its own h1 or h2) listed in the contents and linked from its heading to
  // the same id in the other edition; and, scrolled half way down, a link back to the
  // contents in view.
  const scripts = document.scripts.length;
  const handlers = [...document.querySelectorAll("*")]
    .filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name)))
    .map(name);
  const headed = [...document.querySelectorAll("main section[id]")]
    .filter((s) => s.querySelector(":scope > h1, :scope > h2"));
  const listed = new Set([...document.querySelectorAll("nav a[href^='#']")]
    .map((a) => a.getAttribute("href").slice(1)));
  const unlisted = headed.filter((s) => !listed.has(s.id)).map((s) => s.id);
  const unswitched = headed.filter((s) => ![...s.querySelectorAll(":scope > h1 a[hreflang], :scope > h2 a[hreflang]")]
    .some((a) => a.getAttribute("href").endsWith(`/index.html#${s.id}`))).map((s) => s.id);
  const saved = window.scrollY;
  window.scrollTo(0, root.scrollHeight / 2);
  const contentsInView = [...document.querySelectorAll("a[href='#contents']")].some((a) => {
    const r = a.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  });
  window.scrollTo(0, saved);
  const broken = [...document.images]
    .filter((i) => !(i.complete && i.naturalWidth > 0))
    .map((i) => i.getAttribute("src"));
  return {
    innerWidth: window.innerWidth,
    clientWidth: viewport,
    scrollWidth: root.scrollWidth,
    overflow: root.scrollWidth > viewport + 1,
    wide,
    tables,
    squeezed,
    clipped,
    charts,
    scripts,
    handlers,
    sections: headed.length,
    unlisted,
    unswitched,
    contentsInView,
    broken,
    lang: root.getAttribute("lang"),
    // What a script that ran would have changed, and the policy that forbids any.
    title: document.title,
    csp: document.querySelector("meta[http-equiv='Content-Security-Policy']")?.content ?? null,
  };
}

// Runs in an SVG file opened on its own, at its natural size: the height in CSS px of each
// text it draws (its font size through every transform above it), the smallest first.
function svgText() {
  const out = [];
  for (const el of document.querySelectorAll("text")) {
    const text = el.textContent.replace(/\s+/g, " ").trim();
    if (!text) continue;
    const m = el.getScreenCTM();
    const size = parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.c, m.d);
    out.push({ text: text.slice(0, 40), size });
  }
  out.sort((a, b) => a.size - b.size);
  return { width: document.documentElement.getBoundingClientRect().width, texts: out.slice(0, 5) };
}

// The smallest text of each chart as the page draws it: the file's own text sizes scaled by
// the width the page gives the image over its natural width. Files are read once.
const svgCache = new Map();
async function chartText(context, charts) {
  const out = [];
  for (const chart of charts) {
    if (!svgCache.has(chart.src)) {
      const page = await context.newPage();
      await page.goto(chart.src, { waitUntil: "load" });
      await page.evaluate(() => document.fonts.ready);
      svgCache.set(chart.src, await page.evaluate(svgText));
      await page.close();
    }
    const file = svgCache.get(chart.src);
    if (!file.texts.length) continue; // an equation: its glyphs are paths
    const scale = chart.shown / (chart.natural || file.width);
    const smallest = file.texts[0];
    out.push({ src: chart.src.replace(/^.*\/site\//, ""), scale: Math.round(scale * 1000) / 1000,
               smallest: Math.round(smallest.size * scale * 100) / 100, text: smallest.text });
  }
  return out;
}

const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const version = browser.version();
const results = [];
try {
  for (const width of opts.widths.split(",").map(Number)) {
    const context = await browser.newContext({
      viewport: { width, height: HEIGHTS[width] ?? 900 },
      deviceScaleFactor: 1,
      offline: true,
    });
    for (const name of opts.pages.split(",")) {
      const page = await context.newPage();
      const errors = [];
      page.on("console", (m) => errors.push(`console ${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("requestfailed", (r) => errors.push(`failed request ${r.url()}: ${r.failure()?.errorText}`));
      const url = pathToFileURL(resolve(opts.site, name)).href;
      await page.goto(url, { waitUntil: "load" });
      await page.evaluate(() => document.fonts.ready);
      const layout = await page.evaluate(measure);
      const pageConsole = [...errors]; // what the page itself logged, before axe runs
      layout.charts = await chartText(context, layout.charts);
      // Evaluated, not added as a <script>: the site's Content-Security-Policy refuses any
      // script the page itself would run, and the test's own code must not need an exception.
      await page.evaluate(readFileSync(AXE, "utf8"));
      const axe = await page.evaluate(async () => {
        // No preload: axe would re-fetch the stylesheets by XHR, which file:// refuses.
        const r = await window.axe.run(document, { resultTypes: ["violations"], preload: false });
        return { version: window.axe.version, violations: r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
          target: v.nodes[0] ? v.nodes[0].target.join(" ") : null,
          targets: v.nodes.slice(0, 30).map((n) => n.target.join(" ")),
          html: v.nodes[0] ? v.nodes[0].html.slice(0, 160) : null })) };
      });
      let screenshot = null;
      if (opts.shots) {
        // The first screen, and the first table of each kind (its wrapper, as a reader sees it).
        mkdirSync(opts.shots, { recursive: true });
        const stem = join(opts.shots, `${name.replace(/\//g, "_").replace(/\.html$/, "")}-${width}`);
        screenshot = `${stem}.png`;
        await page.screenshot({ path: screenshot });
        const seen = new Set();
        for (const table of await page.$$("table")) {
          const kind = (await table.getAttribute("class")) || "plain";
          if (seen.has(kind) || !(await table.isVisible())) continue; // folded in <details>
          seen.add(kind);
          const box = await table.evaluateHandle((t) => t.closest(".scroll, .keep") || t);
          await box.asElement().screenshot({ path: `${stem}-table-${kind.replace(/\W+/g, "_")}.png` });
        }
      }
      results.push({ page: name, width, ...layout, axe: axe.version,
                     violations: axe.violations, console: pageConsole, screenshot });
      await page.close();
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ chromium: version, results }, null, 1) + "\n");
