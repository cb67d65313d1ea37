// The live call monitor (templates/dashboard/live.html): a snapshot of the
// calls in progress from /ws/live-calls/, then each call's events as they
// happen. Reconnects with a growing delay if the socket drops.
(function () {
  "use strict";
  const board = document.getElementById("live-calls");
  const empty = document.getElementById("no-live-calls");
  const statusLine = document.getElementById("live-status");
  const ENDED_KEEP_MS = 60000;
  let retryMs = 1000;

  function refreshEmpty() {
    empty.hidden = board.querySelector(".live-call") !== null;
  }

  function link(text, href) {
    const anchor = document.createElement("a");
    anchor.textContent = text;
    if (href) anchor.href = href;
    return anchor;
  }

  function cardFor(card) {
    let section = board.querySelector('.live-call[data-call-id="' + card.call_id + '"]');
    if (section) return section;
    section = document.createElement("section");
    section.className = "live-call";
    section.dataset.callId = card.call_id;
    const header = document.createElement("header");
    const title = document.createElement("h2");
    title.append(link(card.lead || "Call " + card.call_id, card.lead_url));
    const meta = document.createElement("p");
    meta.className = "muted";
    const started = card.started_at ? new Date(card.started_at).toLocaleTimeString() : "";
    meta.append(card.campaign || "", started ? " · since " + started : "", card.voice_tier === "premium" ? " · premium voice" : "", " · ");
    meta.append(link("call record", card.call_url));
    const state = document.createElement("span");
    state.className = "badge live";
    state.textContent = "live";
    header.append(title, state, meta);
    const list = document.createElement("ol");
    list.className = "transcript";
    section.append(header, list);
    board.prepend(section);
    refreshEmpty();
    return section;
  }

  function addTurn(section, turn) {
    const list = section.querySelector("ol.transcript");
    if (turn.index !== undefined && list.querySelector('li[data-index="' + turn.index + '"]')) return;
    const item = document.createElement("li");
    item.className = "turn " + turn.speaker + " turn-" + turn.speaker;
    item.dataset.speaker = turn.speaker;
    if (turn.index !== undefined) item.dataset.index = turn.index;
    const who = document.createElement("span");
    who.className = "speaker";
    who.textContent = turn.speaker === "agent" ? "Agent" : "Lead";
    const said = document.createElement("span");
    said.className = "text";
    said.textContent = turn.text;
    item.append(who, said);
    list.append(item);
    if (turn.latency_ms !== null && turn.latency_ms !== undefined) setLatency(item, turn.latency_ms);
  }

  function setLatency(item, ms) {
    let badge = item.querySelector(".latency");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "latency";
      badge.title = "From the end of the lead's speech to the agent's first audio";
      item.append(badge);
    }
    badge.textContent = ms + " ms";
  }

  function ended(message) {
    const section = board.querySelector('.live-call[data-call-id="' + message.call_id + '"]');
    if (!section) return;
    section.classList.add("ended");
    const badge = section.querySelector(".badge");
    badge.className = "badge ended";
    badge.textContent = "ended" + (message.outcome_label ? " · " + message.outcome_label.toLowerCase() : "");
    setTimeout(() => {
      section.remove();
      refreshEmpty();
    }, ENDED_KEEP_MS);
  }

  function onMessage(event) {
    const message = JSON.parse(event.data);
    if (message.event === "snapshot") {
      board.querySelectorAll(".live-call:not(.ended)").forEach((section) => section.remove());
      for (const call of message.calls) {
        const section = cardFor(call.card);
        call.turns.forEach((turn) => addTurn(section, turn));
      }
      refreshEmpty();
    } else if (message.event === "call.started") {
      cardFor(message.card);
    } else if (message.event === "call.turn") {
      addTurn(cardFor({ call_id: message.call_id }), message.turn);
    } else if (message.event === "call.latency") {
      const item = board.querySelector(
        '.live-call[data-call-id="' + message.call_id + '"] li[data-index="' + message.index + '"]'
      );
      if (item) setLatency(item, message.latency_ms);
    } else if (message.event === "call.ended") {
      ended(message);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + board.dataset.socket);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      retryMs = 1000;
      statusLine.textContent = "Connected: calls appear here as they are answered.";
      board.dataset.connected = "true";
    };
    socket.onmessage = onMessage;
    socket.onclose = (event) => {
      board.dataset.connected = "false";
      // The server refuses a signed-out or non-staff viewer at the handshake, which a browser
      // reports only as a close before the socket opened: say what it may mean, and keep trying.
      const why = opened ? "Disconnected" : "Could not connect (signed out? reload the page)";
      statusLine.textContent = why + "; trying again in " + Math.round(retryMs / 1000) + " s…";
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  connect();
})();
