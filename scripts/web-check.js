#!/usr/bin/env node
// The web edition in a real browser: Chromium (Debian's, or the Chrome a CI runner has)
// through puppeteer-core, nothing downloaded. guidepub/check/web.py serves
// the site on loopback and runs this with, on stdin,
//   {"base": "http://127.0.0.1:PORT/", "chromium": PATH, "pages": ["index.html", ...],
//    "search": {"query": WORD, "page": "ch-x.html"} or null}
// and reads {"findings": [{page, code, message}], "facts": {...}} on stdout.
// Each page is loaded and measured:
//   WEB-AXE, WEB-CONTRAST  axe-core (every rule it runs by default; colour
//                          contrast is measured on the real computed colours)
//   WEB-REFLOW             no horizontal scrolling or clipped text at 320 CSS px (WCAG 1.4.10)
//   WEB-ZOOM               none at 400 % zoom of a 1280 x 1024 window (320 x 256 CSS px, 4 device px a px)
//   WEB-CLIP               at 360 and 1280 CSS px no content is cut off: no box with overflow hidden or
//                          clip holds more than it shows, nothing sits where the page cannot scroll
//                          to (left of the page, or right of it when the page does not scroll
//                          sideways), and every box that scrolls sideways (a wide table's) can be
//                          reached with Tab (tabindex="0" or a control) and has a role and a name
//   WEB-TEXT-SPACING       WCAG 1.4.12's spacing (line height 1.5, paragraphs 2 em, letters
//                          0.12 em, words 0.16 em) loses no text, at 1280 and 320 CSS px
//   WEB-KEYBOARD           Tab reaches every interactive element
//   WEB-FOCUS              each shows a visible focus indicator, on screen and not covered
//   WEB-REQUEST            no request to any other host
//   WEB-MISSING            every file the page asks for is in the site
//   WEB-SCRIPT             no script error
//   WEB-SEARCH             the search page finds a word (with JavaScript) and lists every
//                          heading (without)
"use strict";

const fs = require("fs");
const puppeteer = require("puppeteer-core");

const AXE = require.resolve("axe-core/axe.min.js");
const SPACING = "*, *::before, *::after { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
  + " word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }";

const config = JSON.parse(fs.readFileSync(0, "utf8"));
const findings = [];
const facts = { pages: 0, axe_rules_passed: 0, focusable: 0, tab_stops: 0 };

function add(page, code, message) {
  findings.push({ page, code, message });
}

// --- measurements run inside the page ----------------------------------------

function describe(element) {
  let name = element.tagName.toLowerCase();
  if (element.id) {
    name += "#" + element.id;
  } else if (element.classList.length) {
    name += "." + Array.from(element.classList).join(".");
  }
  return name;
}

// Horizontal scrolling of the page, with the elements that cause it, and
// text that a box clips or lets spill out of it.
function layoutProblems() {
  const root = document.documentElement;
  const width = root.clientWidth;
  const problems = { overflow: root.scrollWidth - width, wide: [], clipped: [] };
  const scrollsItself = (element) => {
    for (let e = element.parentElement; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (["auto", "scroll"].includes(s.overflowX)) {
        return true;
      }
    }
    return false;
  };
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden") {
      continue;
    }
    const box = element.getBoundingClientRect();
    if (box.width <= 1 && box.height <= 1) {       // visually hidden text, for screen readers
      continue;
    }
    if (problems.overflow > 1 && box.right > width + 1 && !scrollsItself(element)
        && !Array.from(element.children).some((c) => c.getBoundingClientRect().right > width + 1)) {
      problems.wide.push(describe(element) + " reaches " + Math.round(box.right) + " px");
    }
    if (style.display === "inline" || !element.textContent.trim()) {
      continue;
    }
    const clipsX = ["hidden", "clip"].includes(style.overflowX);
    const clipsY = ["hidden", "clip"].includes(style.overflowY);
    const overX = element.scrollWidth > element.clientWidth + 1;
    const overY = element.scrollHeight > element.clientHeight + 1;
    if ((clipsX && overX) || (clipsY && overY)) {
      problems.clipped.push(describe(element) + " clips its text");
    } else if (style.overflowY === "visible" && element.scrollHeight > element.clientHeight + 2
               && element.clientHeight > 0 && !["table-row", "table-row-group", "table"].includes(style.display)) {
      problems.clipped.push(describe(element) + " lets its text spill out of its box");
    }
  }
  problems.wide = problems.wide.slice(0, 3);
  problems.clipped = problems.clipped.slice(0, 3);
  return problems;
}

// Content a reader cannot see at this width: cut off by a box that hides its
// overflow, placed where the page cannot scroll to, or inside a box that
// scrolls sideways but that the keyboard cannot reach or that has no name.
function clipProblems() {
  const root = document.documentElement;
  const width = window.innerWidth;
  const rootStyle = getComputedStyle(root);
  const bodyStyle = getComputedStyle(document.body);
  // The viewport takes html's overflow, or body's when html's is visible.
  const viewportX = rootStyle.overflowX !== "visible" ? rootStyle.overflowX : bodyStyle.overflowX;
  const pageScrollsX = !["hidden", "clip"].includes(viewportX);
  const hides = (v) => ["hidden", "clip"].includes(v);
  const scrolls = (v) => ["auto", "scroll"].includes(v);
  const shown = (element, style) => {
    if (style.display === "none" || style.visibility === "hidden" || style.display === "contents") {
      return false;
    }
    const box = element.getBoundingClientRect();
    return box.width > 1 || box.height > 1;          // not visually hidden text, for screen readers
  };
  const hasContent = (element) => Boolean(element.textContent.trim())
    || element.matches("img, svg, video, canvas, iframe, input, select, textarea, button")
    || Boolean(element.querySelector("img, svg, video, canvas, iframe, input, select, textarea, button"));
  const inScroller = (element) => {
    for (let e = element.parentElement; e && e !== document.body && e !== root; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (scrolls(s.overflowX) && e.scrollWidth > e.clientWidth + 1) {
        return true;
      }
    }
    return false;
  };
  const named = (element) => {
    if ((element.getAttribute("aria-label") || "").trim()) {
      return true;
    }
    const ids = (element.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    return ids.some((id) => { const e = document.getElementById(id); return e && e.textContent.trim(); });
  };
  const problems = [];
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    if (!shown(element, style) || !hasContent(element)) {
      continue;
    }
    const overX = element.scrollWidth > element.clientWidth + 1;
    const overY = element.scrollHeight > element.clientHeight + 1;
    const box = element.getBoundingClientRect();
    // 1. A box that hides what does not fit in it.
    if ((hides(style.overflowX) && overX) || (hides(style.overflowY) && overY)) {
      problems.push(describe(element) + " cuts off its content (" + element.scrollWidth + " x " + element.scrollHeight
        + " px shown in " + element.clientWidth + " x " + element.clientHeight + ")");
      continue;
    }
    // 2. A box that scrolls sideways: the keyboard must reach it, and it needs a name.
    if (scrolls(style.overflowX) && overX) {
      const native = element.matches("a[href], button, input, select, textarea, summary, iframe");
      const focusable = native || (element.hasAttribute("tabindex") && element.tabIndex >= 0);
      if (!focusable) {
        problems.push(describe(element) + " scrolls sideways (" + element.scrollWidth + " px in "
          + element.clientWidth + ") but the keyboard cannot reach it (no tabindex=\"0\")");
      } else if (!native && (!element.getAttribute("role") || !named(element))) {
        problems.push(describe(element) + " scrolls sideways and takes focus but has no role and name"
          + " (role=\"region\" with aria-label or aria-labelledby)");
      }
      continue;
    }
    // 3. Content where the page cannot scroll to: left of the page, or right
    //    of the window when the page does not scroll sideways. (A box moved
    //    wholly off the screen on purpose, for screen readers, is left alone.)
    const ownText = Array.from(element.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())
      || element.matches("img, svg, video, canvas, iframe, input, select, textarea, button");
    if (!ownText || inScroller(element)) {
      continue;
    }
    const x = box.left + window.scrollX;
    const wholly = box.right + window.scrollX <= 0 || x >= root.scrollWidth;
    const placed = ["absolute", "fixed"].includes(style.position);
    if (x < -1 && !(wholly && placed)) {
      problems.push(describe(element) + " starts " + Math.round(-x) + " px left of the page, where it cannot be scrolled to");
    } else if (!pageScrollsX && box.right + window.scrollX > width + 1 && !(wholly && placed)) {
      problems.push(describe(element) + " reaches " + Math.round(box.right + window.scrollX) + " px, past the right edge of a "
        + width + " px window that does not scroll sideways");
    }
  }
  return problems;
}

// Every interactive element shown on the page, each marked with its number.
function interactive() {
  const selector = "a[href], area[href], button, input:not([type=hidden]), select, textarea, summary, iframe,"
    + " [tabindex], [contenteditable=''], [contenteditable='true']";
  const found = [];
  for (const element of document.querySelectorAll(selector)) {
    const style = getComputedStyle(element);
    if (element.disabled || element.closest("[inert], [hidden]") || style.visibility === "hidden"
        || !element.getClientRects().length) {
      continue;
    }
    const native = element.matches("a[href], area[href], button, input, select, textarea, summary, iframe");
    if (!native && element.tabIndex < 0) {           // focusable by script only, not a control
      continue;
    }
    element.setAttribute("data-guidepub-key", String(found.length));
    found.push(describe(element));
  }
  return found;
}

function focusStyle(element) {
  const s = getComputedStyle(element);
  return {
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1 && !/, 0\)$|transparent/.test(s.outlineColor)
      ? s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor : "",
    shadow: s.boxShadow, background: s.backgroundColor, colour: s.color,
    decoration: s.textDecorationLine + " " + s.textDecorationThickness, border: s.borderColor + " " + s.borderWidth,
  };
}

function unfocusedStyles() {
  const styles = {};
  for (const element of document.querySelectorAll("[data-guidepub-key]")) {
    styles[element.getAttribute("data-guidepub-key")] = focusStyle(element);
  }
  return styles;
}

// What has focus now: its number, whether something about it changed to
// show it, and whether it is on screen and not covered.
function focused(before) {
  const element = document.activeElement;
  if (!element || element === document.body || element === document.documentElement) {
    return null;
  }
  const key = element.getAttribute("data-guidepub-key");
  const now = focusStyle(element);
  const was = before[key] || {};
  const shows = Object.keys(now).some((k) => k === "outline" ? now.outline && now.outline !== was.outline
    : now[k] !== was[k]);
  // A link's first line (its box may hold several), skipping empty fragments.
  const box = Array.from(element.getClientRects()).find((r) => r.width > 1 && r.height > 1)
    || element.getBoundingClientRect();
  const onScreen = box.width > 1 && box.height > 1 && box.bottom > 0 && box.right > 0
    && box.top < window.innerHeight && box.left < window.innerWidth;
  let covered = false;
  if (onScreen) {
    const x = Math.min(Math.max(box.left + box.width / 2, 0), window.innerWidth - 1);
    const y = Math.min(Math.max(box.top + Math.min(box.height / 2, 10), 0), window.innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    covered = Boolean(top) && top !== element && !element.contains(top) && !top.contains(element);
  }
  return { key, name: describe(element), shows, onScreen, covered };
}

// The functions above, defined in the page once it has loaded.
const HELPERS = [describe, layoutProblems, clipProblems, interactive, focusStyle, unfocusedStyles, focused]
  .map((f) => f.toString()).join("\n")
  + "\nwindow.guidepubCheck = { layoutProblems, clipProblems, interactive, unfocusedStyles, focused };";

// --- the checks ----------------------------------------------------------------

async function axe(tab, name) {
  await tab.addScriptTag({ path: AXE });
  const results = await tab.evaluate(async () => {
    const run = await window.axe.run(document, { resultTypes: ["violations"] });
    return { passes: run.passes.length, violations: run.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ") + (n.failureSummary ? " (" + n.failureSummary.split("\n").slice(1).join(" ").trim() + ")" : "")),
    })) };
  });
  facts.axe_rules_passed += results.passes;
  for (const v of results.violations) {
    const code = v.id === "color-contrast" ? "WEB-CONTRAST" : "WEB-AXE";
    add(name, code, `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} element(s): ${v.nodes.slice(0, 2).join("; ")}`.slice(0, 400));
  }
}

async function layout(tab, name, code, what) {
  const found = await tab.evaluate(() => window.guidepubCheck.layoutProblems());
  if (found.overflow > 1) {
    add(name, code, `${what}: the page scrolls sideways by ${found.overflow} px (${found.wide.join(", ") || "cause not found"})`);
  }
  for (const clip of found.clipped) {
    add(name, code, `${what}: ${clip}`);
  }
}

async function clipping(tab, name, width, height) {
  await tab.setViewport({ width, height, deviceScaleFactor: 1 });
  const found = await tab.evaluate(() => window.guidepubCheck.clipProblems());
  for (const problem of found.slice(0, 4)) {
    add(name, "WEB-CLIP", `at ${width} CSS px: ${problem}`);
  }
  if (found.length > 4) {
    add(name, "WEB-CLIP", `at ${width} CSS px: and ${found.length - 4} more element(s) cut off`);
  }
}

async function keyboard(tab, name) {
  await tab.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  const expected = await tab.evaluate(() => window.guidepubCheck.interactive());
  facts.focusable += expected.length;
  const before = await tab.evaluate(() => window.guidepubCheck.unfocusedStyles());
  await tab.evaluate(() => {
    if (document.activeElement) {
      document.activeElement.blur();
    }
    window.scrollTo(0, 0);
  });
  const reached = new Set();
  const invisible = [];
  for (let press = 0; press < expected.length + 5; press++) {
    await tab.keyboard.press("Tab");
    const now = await tab.evaluate((b) => window.guidepubCheck.focused(b), before);
    if (!now) {
      if (reached.size) {
        break;                      // past the last element: the browser's own controls
      }
      continue;
    }
    if (now.key === null) {
      continue;                     // focus on something not interactive (a scrolled-to heading)
    }
    if (reached.has(now.key)) {
      break;                        // round again
    }
    reached.add(now.key);
    facts.tab_stops += 1;
    if (!now.shows || !now.onScreen || now.covered) {
      invisible.push(now.name + (!now.shows ? " shows no focus indicator" : !now.onScreen ? " is off screen when focused"
        : " is covered by another element when focused"));
    }
  }
  const missed = expected.filter((_, i) => !reached.has(String(i)));
  if (missed.length) {
    add(name, "WEB-KEYBOARD", `${missed.length} of ${expected.length} interactive element(s) cannot be reached with Tab: ${missed.slice(0, 4).join(", ")}`);
  }
  for (const what of invisible.slice(0, 4)) {
    add(name, "WEB-FOCUS", what);
  }
  if (invisible.length > 4) {
    add(name, "WEB-FOCUS", `and ${invisible.length - 4} more element(s) without a visible focus`);
  }
}

async function search(tab, probe) {
  await tab.setJavaScriptEnabled(true);
  await tab.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  await tab.goto(config.base + "search.html?q=" + encodeURIComponent(probe.query), { waitUntil: "load" });
  const found = await tab.evaluate(() => {
    const title = document.getElementById("search--results-title");
    return { title: title ? title.textContent : null,
             links: Array.from(document.querySelectorAll(".search-result a")).map((a) => a.getAttribute("href")) };
  });
  if (!found.title) {
    add("search.html", "WEB-SEARCH", `searching for '${probe.query}' showed no results heading: the search script did not run`);
  } else if (!found.links.some((href) => href.split("#")[0] === probe.page)) {
    add("search.html", "WEB-SEARCH", `searching for '${probe.query}' did not find ${probe.page} (${found.title}; ${found.links.slice(0, 3).join(", ")})`);
  }
  // Without JavaScript the form still leads somewhere useful: every heading.
  await tab.setJavaScriptEnabled(false);
  await tab.goto(config.base + "search.html?q=" + encodeURIComponent(probe.query), { waitUntil: "load" });
  const listed = await tab.evaluate((page) => Array.from(document.querySelectorAll("main a"))
    .some((a) => (a.getAttribute("href") || "").split("#")[0] === page), probe.page);
  if (!listed) {
    add("search.html", "WEB-SEARCH", `without JavaScript, search.html does not list ${probe.page}`);
  }
  await tab.setJavaScriptEnabled(true);
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: config.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
      "--disable-background-networking", "--disable-component-update", "--disable-default-apps", "--disable-sync",
      "--font-render-hinting=none", "--hide-scrollbars"],
    timeout: 60000,
  });
  try {
    const tab = await browser.newPage();
    tab.setDefaultTimeout(60000);
    let name = "";
    await tab.setRequestInterception(true);
    tab.on("request", (request) => {
      const url = request.url();
      if (url.startsWith(config.base) || url.startsWith("data:") || url.startsWith("about:")) {
        request.continue();
      } else {
        add(name, "WEB-REQUEST", `asked another host for ${url.slice(0, 200)}`);
        request.abort("blockedbyclient");
      }
    });
    tab.on("response", (response) => {
      if (response.status() >= 400 && response.url().startsWith(config.base)) {
        add(name, "WEB-MISSING", `${response.url().slice(config.base.length)} is not in the site (HTTP ${response.status()})`);
      }
    });
    tab.on("pageerror", (error) => add(name, "WEB-SCRIPT", `script error: ${String(error.message || error).slice(0, 200)}`));
    for (name of config.pages) {
      facts.pages += 1;
      await tab.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
      await tab.goto(config.base + name, { waitUntil: "load" });
      await tab.evaluate(() => document.fonts.ready.then(() => true));
      await tab.evaluate(HELPERS);
      await axe(tab, name);
      await keyboard(tab, name);
      await clipping(tab, name, 1280, 800);
      await clipping(tab, name, 360, 740);
      await tab.setViewport({ width: 320, height: 640, deviceScaleFactor: 1 });
      await layout(tab, name, "WEB-REFLOW", "at 320 CSS px");
      await tab.setViewport({ width: 320, height: 256, deviceScaleFactor: 4 });
      await layout(tab, name, "WEB-ZOOM", "at 400 % zoom (1280 x 1024)");
      await tab.setViewport({ width: 320, height: 640, deviceScaleFactor: 1 });
      await tab.addStyleTag({ content: SPACING });
      await layout(tab, name, "WEB-TEXT-SPACING", "with WCAG text spacing at 320 CSS px");
      await tab.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
      await layout(tab, name, "WEB-TEXT-SPACING", "with WCAG text spacing at 1280 CSS px");
    }
    if (config.search) {
      name = "search.html";
      await search(tab, config.search);
    }
  } finally {
    await browser.close();
  }
}

main().then(() => {
  process.stdout.write(JSON.stringify({ findings, facts }));
}, (error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(2);
});
