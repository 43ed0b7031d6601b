// The front page's behaviour: tabs, copy buttons, the model list behind an API key, and the playground.
// Plain JavaScript, no dependencies; everything it calls is this app's own API.
"use strict";

(function () {
  const main = document.getElementById("main");
  const announcer = document.createElement("div");
  announcer.className = "sr-only";
  announcer.setAttribute("role", "status");
  document.body.appendChild(announcer);

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(() => { announcer.textContent = text; }, 50);
  }

  // --- Tabs: one snippet panel at a time, arrow keys move between tabs. Without script all panels show.
  const tablist = document.querySelector("[role=tablist]");
  if (tablist) {
    const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
    const select = (tab, focus) => {
      for (const other of tabs) {
        const selected = other === tab;
        other.setAttribute("aria-selected", String(selected));
        other.tabIndex = selected ? 0 : -1;
        const panel = document.getElementById(other.getAttribute("aria-controls"));
        panel.hidden = !selected;
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", other.id);
      }
      if (focus) tab.focus();
    };
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => select(tab, false));
      tab.addEventListener("keydown", (event) => {
        const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
        if (!(event.key in moves)) return;
        event.preventDefault();
        select(tabs[(index + moves[event.key] + tabs.length) % tabs.length], true);
      });
    });
    tablist.hidden = false;
    select(tabs[0], false);
  }

  // --- Copy buttons.
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    try {
      await copyText(button.dataset.copyText);
      button.textContent = "Copied";
      announce("Copied to the clipboard");
    } catch (error) {
      button.textContent = "Select and copy";
      announce("Copying failed: select the text and copy it");
    }
    window.setTimeout(() => { button.textContent = "Copy"; }, 1600);
  });

  // --- Calls to this app's API.
  const keyInput = document.getElementById("play-key");
  const needsKey = main.dataset.needsKey === "true";

  function apiHeaders() {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (needsKey && keyInput.value.trim()) headers.Authorization = "Bearer " + keyInput.value.trim();
    return headers;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (ignored) { /* not JSON */ }
    return "HTTP " + response.status;
  }

  // --- The model list, when the API needs a key the server cannot know.
  const taskLabels = { "llm/v1/chat": "chat", "llm/v1/completions": "completions", "llm/v1/embeddings": "embeddings" };
  const modelSelect = document.getElementById("play-model");
  const modelNote = document.getElementById("models-note");

  function cell(tag, text, code) {
    const element = document.createElement(tag);
    if (tag === "th") element.scope = "row";
    if (code) {
      const inner = document.createElement("code");
      inner.textContent = text;
      element.appendChild(inner);
    } else {
      element.textContent = text;
    }
    return element;
  }

  async function loadModels() {
    const response = await fetch("/api/v1/models", { headers: apiHeaders() });
    if (!response.ok) {
      modelNote.textContent = "The model list is not available: " + (await errorMessage(response));
      return;
    }
    const models = (await response.json()).data || [];
    const rows = document.getElementById("model-rows");
    rows.replaceChildren();
    modelSelect.replaceChildren();
    for (const model of models) {
      const row = document.createElement("tr");
      const task = model.task ? (taskLabels[model.task] || model.task) : "unknown";
      row.append(cell("th", model.id, true), cell("td", task, false), cell("td", "", false));
      rows.appendChild(row);
      if (!model.task || model.task === "llm/v1/chat") modelSelect.appendChild(new Option(model.id, model.id));
    }
    modelNote.textContent = "Live from the serving-endpoints list: the endpoints this key can query, right now.";
  }

  if (needsKey) keyInput.addEventListener("change", () => { loadModels().catch(() => {}); });

  // --- The playground: POST /api/v1/chat/completions with stream: true, read the SSE as it arrives.
  const form = document.getElementById("play-form");
  const answer = document.getElementById("play-answer");
  const reasoning = document.getElementById("play-reasoning");
  const status = document.getElementById("play-status");
  const send = document.getElementById("play-send");
  const stop = document.getElementById("play-stop");
  let controller = null;

  function finish(text) {
    status.textContent = text;
    answer.setAttribute("aria-busy", "false");
    send.disabled = false;
    stop.disabled = true;
    controller = null;
  }

  function apply(event) {
    if (event.error) throw new Error(event.error.message || "The stream ended with an error.");
    for (const choice of event.choices || []) {
      const delta = choice.delta || {};
      if (delta.reasoning_content) {
        reasoning.hidden = false;
        reasoning.textContent += delta.reasoning_content;
      }
      if (typeof delta.content === "string") answer.textContent += delta.content;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const model = modelSelect.value;
    const message = document.getElementById("play-message").value;
    if (!model) {
      status.textContent = "No chat model to choose from.";
      return;
    }
    controller = new AbortController();
    answer.textContent = "";
    answer.classList.remove("error");
    reasoning.textContent = "";
    reasoning.hidden = true;
    answer.setAttribute("aria-busy", "true");
    send.disabled = true;
    stop.disabled = false;
    status.textContent = "Waiting for " + model + "…";
    const started = performance.now();
    try {
      const response = await fetch("/api/v1/chat/completions", {
        method: "POST",
        headers: { ...apiHeaders(), Accept: "text/event-stream" },
        body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: message }] }),
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(await errorMessage(response));
      status.textContent = "Streaming…";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let done = false;
      while (!done) {
        const part = await reader.read();
        if (part.done) break;
        buffer += part.value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of frame.split("\n")) {
            if (!line.startsWith("data:")) continue;
            const data = line.slice(5).trim();
            if (data === "[DONE]") { done = true; break; }
            apply(JSON.parse(data));
          }
        }
      }
      finish("Done in " + ((performance.now() - started) / 1000).toFixed(2) + " s.");
    } catch (error) {
      if (error.name === "AbortError") {
        finish("Stopped.");
        return;
      }
      answer.classList.add("error");
      answer.textContent += (answer.textContent ? "\n" : "") + error.message;
      finish("Failed.");
    }
  });

  stop.addEventListener("click", () => { if (controller) controller.abort(); });
})();
