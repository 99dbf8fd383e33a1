// The ASP.NET Core SignalR tutorial's chat.js, through the hub's typed module:
// chat-hub.js is compiled from samples/typescript/chat-hub.ts, which the Rust
// hub generates (`#[hub(typescript)]`; scripts/typescript.sh regenerates both).
import { ChatHub } from "./chat-hub.js";

// ?transport=LongPolling (or WebSockets, ServerSentEvents) forces a transport.
const params = new URLSearchParams(location.search);
const transport = params.has("transport") ? signalR.HttpTransportType[params.get("transport")] : undefined;
const connection = new signalR.HubConnectionBuilder()
  .withUrl("/chatHub", { transport })
  .withAutomaticReconnect()
  .build();
const chat = new ChatHub(connection);

const sendButton = document.getElementById("sendButton");
const status = document.getElementById("status");

chat.on.receiveMessage((user, message) => {
  const li = document.createElement("li");
  document.getElementById("messagesList").appendChild(li);
  // textContent, never innerHTML: messages are untrusted input.
  li.textContent = `${user} says ${message}`;
});

connection.onreconnecting(() => { sendButton.disabled = true; status.textContent = "reconnecting…"; });
connection.onreconnected(() => { sendButton.disabled = false; status.textContent = "connected"; });
connection.onclose(() => { sendButton.disabled = true; status.textContent = "disconnected"; });

connection.start().then(() => {
  sendButton.disabled = false;
  status.textContent = "connected";
}).catch((err) => {
  status.textContent = "failed to connect: " + err.toString();
});

function send(event) {
  const user = document.getElementById("userInput").value;
  const input = document.getElementById("messageInput");
  chat.invoke.sendMessage(user, input.value).catch((err) => console.error(err.toString()));
  input.value = "";
  input.focus();
  if (event) event.preventDefault();
}

sendButton.addEventListener("click", send);
document.getElementById("messageInput").addEventListener("keydown", (event) => {
  if (event.key === "Enter") send(event);
});
