// The browser test call (templates/dashboard/test_call.html): the microphone
// goes to /ws/test-call/<campaign>/ as 16 kHz PCM16, the agent's voice comes
// back the same way and is played in order; JSON text messages carry the
// transcript, each reply's latency and the verdict at the end.
(function () {
  "use strict";
  const root = document.getElementById("test-call");
  const startButton = document.getElementById("start-call");
  const hangupButton = document.getElementById("hang-up");
  const statusLine = document.getElementById("call-status");
  const transcript = document.getElementById("transcript");
  const verdict = document.getElementById("verdict");
  const RATE = 16000;

  let socket = null;
  let audio = null;
  let micStream = null;
  let playHead = 0;
  const playing = new Set();

  function setStatus(text, state) {
    statusLine.textContent = text;
    root.dataset.state = state;
  }

  function addLine(speaker, text) {
    const item = document.createElement("li");
    item.className = "turn " + speaker + " turn-" + speaker;
    item.dataset.speaker = speaker;
    const who = document.createElement("span");
    who.className = "speaker";
    who.textContent = speaker === "agent" ? "Agent" : "You";
    const said = document.createElement("span");
    said.className = "text";
    said.textContent = text;
    item.append(who, said);
    transcript.append(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  function addLatency(message) {
    const agentLines = transcript.querySelectorAll("li.turn-agent");
    for (let i = agentLines.length - 1; i >= 0; i--) {
      const line = agentLines[i];
      if (line.querySelector(".text").textContent === message.text && !line.querySelector(".latency")) {
        const badge = document.createElement("span");
        badge.className = "latency";
        badge.textContent = message.latency_ms + " ms";
        badge.title =
          "VAD " + message.vad_stop_ms + " ms, speech-to-text " + message.stt_ms + " ms, brain " +
          message.brain_first_text_ms + " ms, first audio " + message.tts_first_audio_ms + " ms";
        line.append(badge);
        return;
      }
    }
  }

  function play(buffer) {
    const pcm = new Int16Array(buffer);
    if (!pcm.length) return;
    const samples = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 32768;
    const clip = audio.createBuffer(1, samples.length, RATE);
    clip.copyToChannel(samples, 0);
    const source = audio.createBufferSource();
    source.buffer = clip;
    source.connect(audio.destination);
    playHead = Math.max(playHead, audio.currentTime + 0.05);
    source.start(playHead);
    playHead += clip.duration;
    playing.add(source);
    source.onended = () => playing.delete(source);
    root.dataset.audioChunks = String(Number(root.dataset.audioChunks || "0") + 1);
  }

  function clearPlayback() {
    // The caller spoke over the agent: drop what is queued, as a phone would.
    for (const source of playing) source.stop();
    playing.clear();
    playHead = audio.currentTime;
  }

  function onMessage(event) {
    if (event.data instanceof ArrayBuffer) {
      play(event.data);
      return;
    }
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.type === "status") setStatus("Connected. Speak when the agent has finished its opening.", "live");
    else if (message.type === "transcript") addLine(message.speaker, message.text);
    else if (message.type === "latency") addLatency(message);
    else if (message.type === "clear") clearPlayback();
    else if (message.type === "warning" || message.type === "error") addLine("system", message.message);
    else if (message.type === "ended") showVerdict(message);
  }

  function showVerdict(message) {
    verdict.hidden = false;
    verdict.querySelector("[data-field=reason]").textContent = message.reason || "";
    verdict.querySelector("[data-field=outcome]").textContent = message.outcome_label || "none";
    verdict.querySelector("[data-field=score]").textContent = message.score === null || message.score === undefined ? "—" : message.score;
    verdict.querySelector("[data-field=summary]").textContent = message.summary || "";
    verdict.querySelector("[data-field=seconds]").textContent = message.seconds;
    setStatus("The test call has ended.", "ended");
  }

  function stopMicrophone() {
    if (micStream) micStream.getTracks().forEach((track) => track.stop());
    micStream = null;
  }

  async function start() {
    startButton.disabled = true;
    transcript.replaceChildren();
    verdict.hidden = true;
    setStatus("Asking for the microphone…", "starting");
    try {
      micStream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (error) {
      setStatus("No microphone: " + error.message + ". Allow the microphone for this site and try again.", "error");
      startButton.disabled = false;
      return;
    }
    audio = new AudioContext();
    await audio.audioWorklet.addModule(root.dataset.worklet);
    const microphone = audio.createMediaStreamSource(micStream);
    const downsampler = new AudioWorkletNode(audio, "pcm16-downsampler", { processorOptions: { targetRate: RATE } });
    // A worklet only runs when the graph pulls it; a silent gain keeps it pulled without echoing the microphone.
    const mute = audio.createGain();
    mute.gain.value = 0;
    microphone.connect(downsampler).connect(mute).connect(audio.destination);

    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.binaryType = "arraybuffer";
    setStatus("Connecting to the agent…", "connecting");
    downsampler.port.onmessage = (event) => {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(event.data);
    };
    socket.onmessage = onMessage;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      hangupButton.disabled = false;
    };
    socket.onclose = (event) => {
      hangupButton.disabled = true;
      startButton.disabled = false;
      stopMicrophone();
      if (root.dataset.state !== "ended") {
        // A refused handshake (signed out, not staff, no such campaign) reaches the page as a bare
        // close before the socket opened; a busy server says so with 4429 after an error message.
        if (event.code === 4429) setStatus("Too many test calls are running on the server; try again in a minute.", "ended");
        else if (!opened) setStatus("The server refused the test call: sign in again, or reload the page.", "ended");
        else setStatus("The connection closed.", "ended");
      }
    };
  }

  function hangUp() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "hangup" }));
    hangupButton.disabled = true;
  }

  startButton.addEventListener("click", start);
  hangupButton.addEventListener("click", hangUp);
})();
