// The whiteboard sample in browser pages: strokes drawn with the mouse in one
// page appear on the others' canvases (checked pixel by pixel), a page opened
// later gets the drawing so far, and Clear clears every canvas.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORT, withBrowser } from "./lib/browser.mjs";

const WAIT = { timeout: 5_000 };
const BLUE = [0x1e, 0x88, 0xe5]; // the page's default color, #1e88e5
const RED = [0xe5, 0x39, 0x35]; // #e53935
const WHITE = [255, 255, 255];

// A zigzag drawn in blue, the points on it to check, and points off it.
const ZIGZAG = [{ x: 100, y: 100 }, { x: 300, y: 200 }, { x: 500, y: 100 }];
const ON_ZIGZAG = [...ZIGZAG, { x: 200, y: 150 }, { x: 400, y: 150 }];
const OFF_ZIGZAG = [{ x: 100, y: 400 }, { x: 700, y: 50 }, { x: 300, y: 120 }];
// A line drawn in red after Clear.
const LINE = [{ x: 150, y: 350 }, { x: 650, y: 350 }];
const ON_LINE = [...LINE, { x: 400, y: 350 }];

// Runs in the page: whether every point of the canvas has color `rgb` (give or take anti-aliasing).
function canvasShows({ points, rgb }) {
  const context = document.getElementById("board").getContext("2d");
  return points.every(({ x, y }) => {
    const pixel = context.getImageData(x, y, 1, 1).data;
    return rgb.every((value, i) => Math.abs(pixel[i] - value) <= 40);
  });
}

// Waits until the canvas shows `rgb` at `points`; on timeout, says what it shows.
async function expectCanvas(page, what, points, rgb) {
  try {
    await page.waitForFunction(canvasShows, { points, rgb }, WAIT);
  } catch (error) {
    const pixels = await page.evaluate((points) => {
      const context = document.getElementById("board").getContext("2d");
      return points.map(({ x, y }) => `(${x},${y}): ${[...context.getImageData(x, y, 1, 1).data.slice(0, 3)]}`);
    }, points);
    assert.fail(`${what}: expected ${rgb} at every point, the canvas has ${pixels.join("; ")} (${error.message.split("\n")[0]})`);
  }
}

async function waitConnected(page, browser, protocol = "messagepack") {
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("connected"), null, WAIT);
  // The page prefers MessagePack (its script is served at /lib/); ?protocol=json forces JSON.
  assert.equal(await page.textContent("#status"), `connected (${protocol})`);
  browser.assertTransport(page, "/hubs/whiteboard");
}

// Drags the mouse through `points` (canvas pixels) with the button down.
async function draw(page, points) {
  await page.bringToFront();
  const origin = await page.evaluate(() => {
    const canvas = document.getElementById("board");
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + canvas.clientLeft, y: rect.top + canvas.clientTop };
  });
  const [first, ...rest] = points;
  await page.mouse.move(origin.x + first.x, origin.y + first.y);
  await page.mouse.down();
  for (const point of rest) {
    await page.mouse.move(origin.x + point.x, origin.y + point.y, { steps: 10 });
  }
  await page.mouse.up();
}

test(`whiteboard strokes, late joiners and Clear (${TRANSPORT})`, { timeout: 20_000 }, async () => {
  await withBrowser("whiteboard", async (browser) => {
    const page1 = await browser.open("/");
    const page2 = await browser.open("/");
    for (const page of [page1, page2]) {
      await waitConnected(page, browser);
      await expectCanvas(page, "a new canvas is blank", [...ON_ZIGZAG, ...OFF_ZIGZAG], WHITE);
    }

    // The hub refuses strokes a page could not draw, with a message.
    const refused = await page1.evaluate(() =>
      connection.invoke("Draw", { points: [], color: "#000", width: 1 }).then(() => "accepted", (error) => error.message));
    assert.match(refused, /A stroke has 1 to 1000 points\./);

    // A stroke drawn in page 1 appears in page 1 and, through the hub, in page 2.
    await draw(page1, ZIGZAG);
    await expectCanvas(page1, "page 1 draws as the mouse moves", ON_ZIGZAG, BLUE);
    await expectCanvas(page2, "page 2 gets page 1's stroke", ON_ZIGZAG, BLUE);
    await expectCanvas(page2, "page 2 off the stroke", OFF_ZIGZAG, WHITE);

    // A page opened after the stroke starts with the drawing so far (this one
    // over JSON: the hub sends each page the strokes in its own protocol).
    const page3 = await browser.open("/?protocol=json");
    await waitConnected(page3, browser, "json");
    await expectCanvas(page3, "page 3 gets the drawing so far", ON_ZIGZAG, BLUE);
    await expectCanvas(page3, "page 3 off the stroke", OFF_ZIGZAG, WHITE);

    // Clear in page 2 clears every canvas.
    await page2.bringToFront();
    await page2.click("#clearButton");
    for (const [page, name] of [[page1, "page 1"], [page2, "page 2"], [page3, "page 3"]]) {
      await expectCanvas(page, `${name} after Clear`, ON_ZIGZAG, WHITE);
    }

    // And the drawing so far: a page opened now gets an empty drawing, then the
    // next stroke (the hub sends a new page the drawing before any later stroke).
    const page4 = await browser.open("/");
    await waitConnected(page4, browser);
    await page2.click('#colors button[aria-label="red"]');
    await draw(page2, LINE);
    for (const [page, name] of [[page4, "page 4"], [page1, "page 1"], [page2, "page 2"]]) {
      await expectCanvas(page, `${name} gets the red line`, ON_LINE, RED);
    }
    await expectCanvas(page4, "page 4 never saw the cleared stroke", ON_ZIGZAG, WHITE);

    // The zigzag again, over the red line: every page ends with both (see the screenshots).
    await draw(page1, ZIGZAG);
    for (const [page, name] of [[page1, "page 1"], [page2, "page 2"], [page3, "page 3"], [page4, "page 4"]]) {
      await expectCanvas(page, `${name} gets the zigzag again`, ON_ZIGZAG, BLUE);
      await expectCanvas(page, `${name} keeps the red line`, ON_LINE, RED);
    }
  });
});
