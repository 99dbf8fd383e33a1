// The clock sample in a browser page: the server pushes the time every second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORT, withBrowser } from "./lib/browser.mjs";

const TIME = /^\d\d:\d\d:\d\d$/;

function seconds(time) {
  const [h, m, s] = time.split(":").map(Number);
  return h * 3600 + m * 60 + s;
}

test(`the clock updates (${TRANSPORT})`, { timeout: 20_000 }, async () => {
  await withBrowser("clock", async (browser) => {
    const page = await browser.open("/");
    // The page asks for the time as soon as it is connected (GetTime).
    await page.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById("time").textContent), null, { timeout: 5_000 });
    assert.equal(await page.textContent("#status"), "connected");
    browser.assertTransport(page, "/hubs/clock");

    // Then the server's ShowTime ticks change it, once a second.
    const seen = [await page.textContent("#time")];
    for (let change = 0; change < 2; change++) {
      await page
        .waitForFunction(
          (previous) => document.getElementById("time").textContent !== previous,
          seen[seen.length - 1],
          { timeout: 4_000 },
        )
        .catch((error) => assert.fail(`the time stayed ${seen.at(-1)} after ${seen}: ${error.message}`));
      seen.push(await page.textContent("#time"));
    }
    for (const time of seen) assert.match(time, TIME);
    assert.equal(new Set(seen).size, 3, `three different times: ${seen}`);

    // It is the time now, in UTC (within a few seconds, across midnight too).
    const now = new Date().toISOString().slice(11, 19);
    const apart = Math.abs(seconds(now) - seconds(seen[2]));
    assert.ok(Math.min(apart, 86_400 - apart) <= 3, `the page shows ${seen[2]}, UTC is ${now}`);
  });
});
