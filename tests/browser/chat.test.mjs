// The chat sample in two browser pages: what one sends, both show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORT, withBrowser } from "./lib/browser.mjs";

const WAIT = { timeout: 5_000 };

async function messages(page) {
  return page.$$eval("#messagesList li", (items) => items.map((li) => li.textContent));
}

// Waits until the page's message list is `expected` (its items' texts).
async function waitForMessages(page, expected) {
  try {
    await page.waitForFunction(
      (expected) => {
        const items = [...document.querySelectorAll("#messagesList li")].map((li) => li.textContent);
        return JSON.stringify(items) === JSON.stringify(expected);
      },
      expected,
      WAIT,
    );
  } catch (error) {
    assert.deepEqual(await messages(page), expected, error.message.split("\n")[0]);
  }
}

test(`chat between two pages (${TRANSPORT})`, { timeout: 20_000 }, async () => {
  await withBrowser("chat", async (browser) => {
    const page1 = await browser.open("/");
    const page2 = await browser.open("/");
    for (const page of [page1, page2]) {
      await page.waitForSelector("#sendButton:not([disabled])", WAIT);
      assert.equal(await page.textContent("#status"), "connected");
      browser.assertTransport(page, "/chatHub");
    }

    // Each page in front while typing in it, as a person would have it.
    await page1.bringToFront();
    await page1.fill("#userInput", "alice");
    await page1.fill("#messageInput", "hello from page 1");
    await page1.click("#sendButton");
    const first = ["alice says hello from page 1"];
    await waitForMessages(page2, first);
    await waitForMessages(page1, first);
    assert.equal(await page1.inputValue("#messageInput"), "", "Send empties the message box");

    // Page 2 answers with Enter; markup arrives as text, never as elements.
    await page2.bringToFront();
    await page2.fill("#userInput", "bob");
    await page2.fill("#messageInput", "<b>hi</b> & bye");
    await page2.press("#messageInput", "Enter");
    const both = [...first, "bob says <b>hi</b> & bye"];
    await waitForMessages(page1, both);
    await waitForMessages(page2, both);
    assert.equal(await page1.locator("#messagesList b").count(), 0);
    assert.deepEqual(await messages(page1), await messages(page2));
  });
});
