// Headless Chromium (Debian's, never a downloaded one) driven by playwright-core,
// against a sample server the Rust test started. The Rust test passes:
//   APP_URL    the server's base URL, e.g. http://127.0.0.1:40123
//   TRANSPORT  "default" (the page picks), or a transport the page is forced to
//              use with ?transport=..., e.g. "LongPolling"
//   CHROMIUM   the browser (default /usr/bin/chromium)
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const TRANSPORT = process.env.TRANSPORT || "default";
const APP_URL = process.env.APP_URL;
const ARTIFACTS = fileURLToPath(new URL("../../artifacts/", import.meta.url));

// As root, in a sandbox with no network but loopback.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// The page at `path` on the server, with ?transport=... unless TRANSPORT is "default".
export function pageUrl(path = "/") {
  assert.ok(APP_URL, "APP_URL is not set: run these scripts through `cargo test -p tests --test browser`");
  const url = new URL(path, APP_URL);
  if (TRANSPORT !== "default") url.searchParams.set("transport", TRANSPORT);
  return url.href;
}

// Runs `body(browser)` in a fresh Chromium (a new, empty profile), then writes
// a screenshot of every page it opened to tests/artifacts/<name>-<transport>-pageN.png
// (whether the test passed or not) and checks no page had a script error.
// ARTIFACT_NAME replaces `name` (the same page served by another app).
export async function withBrowser(name, body) {
  name = process.env.ARTIFACT_NAME ?? name;
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium; .ci/run does)`);
  }
  const profile = await mkdtemp(join(tmpdir(), "signalr-browser-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 900, height: 680 },
  });
  const browser = new Browser(context);
  try {
    await body(browser);
    assert.deepEqual(browser.errors, [], "errors in the pages' scripts or console");
  } finally {
    await mkdir(ARTIFACTS, { recursive: true });
    const label = TRANSPORT.toLowerCase();
    for (const [index, page] of browser.pages.entries()) {
      const path = join(ARTIFACTS, `${name}-${label}-page${index + 1}.png`);
      // In front: a page behind the others takes a second to paint for a screenshot.
      await page.bringToFront().then(() => page.screenshot({ path })).catch((error) => console.error(`screenshot ${path}: ${error}`));
    }
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

class Browser {
  constructor(context) {
    this.context = context;
    this.pages = [];
    this.errors = [];
    // Per page: the WebSocket URLs it opened and the hub requests it made.
    this.traffic = new Map();
  }

  // Opens a new page at `path` (see pageUrl).
  async open(path = "/") {
    const blank = this.pages.length === 0 ? this.context.pages()[0] : undefined;
    const page = blank ?? (await this.context.newPage());
    const number = this.pages.length + 1;
    this.pages.push(page);
    const traffic = { websockets: [], requests: [] };
    this.traffic.set(page, traffic);
    page.on("websocket", (socket) => traffic.websockets.push(socket.url()));
    page.on("request", (request) => traffic.requests.push(`${request.method()} ${request.url()}`));
    page.on("pageerror", (error) => this.errors.push(`page ${number}: ${error}`));
    page.on("console", (message) => {
      // A browser asks for /favicon.ico, which the samples do not have.
      if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) {
        this.errors.push(`page ${number} console: ${message.text()}`);
      }
    });
    await page.goto(pageUrl(path));
    return page;
  }

  // Checks that `page` talks to the hub at `hubPath` over the transport asked
  // for: a WebSocket by default; only HTTP polls when forced to Long Polling.
  assertTransport(page, hubPath) {
    const { websockets, requests } = this.traffic.get(page);
    const toHub = websockets.filter((url) => new URL(url).pathname === hubPath);
    const polls = requests.filter((line) => {
      const [method, url] = line.split(" ");
      const parsed = new URL(url);
      return method === "GET" && parsed.pathname === hubPath && parsed.searchParams.has("id");
    });
    if (TRANSPORT === "LongPolling") {
      assert.deepEqual(toHub, [], "no WebSocket when forced to Long Polling");
      assert.ok(polls.length > 0, `Long Polling GETs to ${hubPath}; requests: ${requests.join(", ")}`);
    } else {
      assert.ok(["default", "WebSockets"].includes(TRANSPORT), `no check for ${TRANSPORT} yet`);
      assert.equal(toHub.length, 1, `one WebSocket to ${hubPath}; opened: ${websockets.join(", ")}`);
      assert.deepEqual(polls, [], "no Long Polling over a WebSocket");
    }
  }
}
