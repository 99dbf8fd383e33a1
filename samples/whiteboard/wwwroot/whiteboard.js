"use strict";

// ?transport=LongPolling (or WebSockets, ServerSentEvents) forces a transport
// and ?protocol=json forces JSON; by default the client picks the transport,
// and MessagePack is used when its script has loaded.
const params = new URLSearchParams(location.search);
const transport = params.has("transport") ? signalR.HttpTransportType[params.get("transport")] : undefined;
const msgpack = signalR.protocols && signalR.protocols.msgpack;
const protocol = msgpack && params.get("protocol") !== "json"
  ? new msgpack.MessagePackHubProtocol()
  : new signalR.JsonHubProtocol();

const connection = new signalR.HubConnectionBuilder()
  .withUrl("/hubs/whiteboard", { transport })
  .withHubProtocol(protocol)
  .withAutomaticReconnect()
  .build();

const canvas = document.getElementById("board");
const context = canvas.getContext("2d");
const widthInput = document.getElementById("width");
const clearButton = document.getElementById("clearButton");
const status = document.getElementById("status");

// The canvas.

function clearCanvas() {
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
}

// A stroke is { points: [{ x, y }, ...], color, width }; one point is a dot.
function drawStroke(stroke) {
  const [first, ...rest] = stroke.points;
  context.strokeStyle = context.fillStyle = stroke.color;
  context.lineWidth = stroke.width;
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  if (rest.length === 0) {
    context.arc(first.x, first.y, stroke.width / 2, 0, 2 * Math.PI);
    context.fill();
    return;
  }
  context.moveTo(first.x, first.y);
  for (const point of rest) context.lineTo(point.x, point.y);
  context.stroke();
}

clearCanvas();

// The hub: the drawing so far when connecting, then the other pages' strokes.

connection.on("Drawing", (strokes) => { clearCanvas(); strokes.forEach(drawStroke); });
connection.on("Drawn", drawStroke);
connection.on("Cleared", clearCanvas);

function connected() {
  clearButton.disabled = false;
  status.textContent = `connected (${protocol.name})`;
}
connection.onreconnecting(() => { clearButton.disabled = true; status.textContent = "reconnecting…"; });
connection.onreconnected(connected);
connection.onclose(() => { clearButton.disabled = true; status.textContent = "disconnected"; });
connection.start().then(connected).catch((err) => {
  status.textContent = "failed to connect: " + err;
});

clearButton.addEventListener("click", () => {
  connection.invoke("Clear").catch((err) => console.error(err.toString()));
});

// Drawing with the mouse (or a pen, or a finger). The line being drawn goes to
// the hub in pieces, at most every 40 ms; each piece starts where the previous
// one ended, so that the pieces join up on the other pages.

const MAX_STROKE_POINTS = 1000; // the hub's limit
let color = "#1e88e5";
let line = null; // { color, width, points }: the points not sent yet, after the last one sent
let unsent = false;
let timer = null;

for (const button of document.querySelectorAll("#colors button")) {
  button.style.background = button.dataset.color;
  button.addEventListener("click", () => {
    color = button.dataset.color;
    for (const other of document.querySelectorAll("#colors button")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  });
}

// The canvas pixel under the pointer (inside the border, however large the canvas is shown).
function pointAt(event) {
  const rect = canvas.getBoundingClientRect();
  const left = rect.left + canvas.clientLeft;
  const top = rect.top + canvas.clientTop;
  return {
    x: Math.round((event.clientX - left) * canvas.width / canvas.clientWidth),
    y: Math.round((event.clientY - top) * canvas.height / canvas.clientHeight),
  };
}

function sendLine() {
  clearTimeout(timer);
  timer = null;
  if (!line || !unsent) return;
  const stroke = { points: line.points, color: line.color, width: line.width };
  connection.send("Draw", stroke).catch((err) => console.error(err.toString()));
  line.points = [line.points[line.points.length - 1]];
  unsent = false;
}

function addPoint(point) {
  line.points.push(point);
  unsent = true;
  if (line.points.length >= MAX_STROKE_POINTS) sendLine();
  else if (timer === null) timer = setTimeout(sendLine, 40);
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  canvas.setPointerCapture(event.pointerId);
  const point = pointAt(event);
  line = { color, width: Number(widthInput.value), points: [] };
  drawStroke({ ...line, points: [point] });
  addPoint(point);
});

canvas.addEventListener("pointermove", (event) => {
  if (!line) return;
  const point = pointAt(event);
  const last = line.points[line.points.length - 1];
  if (point.x === last.x && point.y === last.y) return;
  drawStroke({ ...line, points: [last, point] });
  addPoint(point);
});

function endLine() {
  sendLine();
  line = null;
}
canvas.addEventListener("pointerup", endLine);
canvas.addEventListener("pointercancel", endLine);
