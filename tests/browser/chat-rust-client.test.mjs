// The chat sample's page and the Rust terminal client (`chat-client`) in
// one room: a message typed in the page reaches the Rust client, and one
// sent from Rust appears in the page. The Rust test (tests/rust_chat_client.rs)
// runs the client; it answers "hello from rust" once it has printed the
// page's message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORT, withBrowser } from "./lib/browser.mjs";

const WAIT = { timeout: 15_000 };

test(`the page and the Rust client chat (${TRANSPORT})`, { timeout: 40_000 }, async () => {
  await withBrowser("chat-rust-client", async (browser) => {
    const page = await browser.open("/");
    await page.waitForSelector("#sendButton:not([disabled])", WAIT);
    assert.equal(await page.textContent("#status"), "connected");
    await page.fill("#userInput", "alice");
    await page.fill("#messageInput", "hello from the page");
    await page.click("#sendButton");
    await page.waitForFunction(
      () => [...document.querySelectorAll("#messagesList li")]
        .some((li) => li.textContent === "rusty says hello from rust"),
      undefined,
      WAIT,
    );
    const items = await page.$$eval("#messagesList li", (list) => list.map((li) => li.textContent));
    assert.deepEqual(items, ["alice says hello from the page", "rusty says hello from rust"]);
  });
});
