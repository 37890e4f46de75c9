// The live page: microphone → MediaRecorder (WebM/Opus, 250 ms slices) → one POST per
// slice, in order. The server feeds Icecast; closing the tab simply stops the slices and
// the server ends the broadcast on every loudspeaker after a few seconds of silence.
(function () {
  "use strict";
  const form = document.getElementById("live-form");
  if (!form) return;
  const state = document.getElementById("live-state");
  const startButton = document.getElementById("live-start");
  const stopButton = document.getElementById("live-stop");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const SLICE_MS = 250;
  let live = null, recorder = null, stream = null, queue = Promise.resolve(), poll = null;

  function say(key, extra) {
    state.textContent = (state.dataset[key] || key) + (extra ? " " + extra : "");
    state.dataset.state = key;
  }
  function url(template, id) { return template.replace("/0/", "/" + id + "/"); }
  async function post(target, body, type) {
    const headers = {"X-CSRFToken": csrf};
    if (type) headers["Content-Type"] = type;
    const response = await fetch(target, {method: "POST", body: body, headers: headers,
                                          credentials: "same-origin"});
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }
  function finish(message, key) {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (poll) clearInterval(poll);
    recorder = stream = poll = null;
    live = null;
    startButton.hidden = false;
    stopButton.hidden = true;
    say(key || "tEnded", message);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (live) return;
    say("tAsking");
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false,
        noiseSuppression: false, autoGainControl: false}});
    } catch (err) {
      say("tNoMic", err.message);
      return;
    }
    try {
      live = await post(form.action, new FormData(form));
    } catch (err) {
      finish(err.message, "refused");
      state.textContent = err.message;
      return;
    }
    say("tStarting");
    startButton.hidden = true;
    stopButton.hidden = false;
    const type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus")
      ? "audio/webm;codecs=opus" : "audio/ogg;codecs=opus";
    recorder = new MediaRecorder(stream, {mimeType: type, audioBitsPerSecond: 32000});
    const id = live.id;
    recorder.ondataavailable = (e) => {
      if (!e.data || !e.data.size) return;
      queue = queue.then(() => live && live.id === id
        ? post(url(form.dataset.chunkUrl, id), e.data, type)
        : null).catch((err) => finish(err.message, "tLost"));
    };
    recorder.start(SLICE_MS);
    poll = setInterval(async () => {
      try {
        const r = await fetch(url(form.dataset.statusUrl, id), {credentials: "same-origin"});
        const s = await r.json();
        if (s.status === "ended") finish(s.end_reason);
        else if (s.on_air && state.dataset.state !== "tOnAir") say("tOnAir");
      } catch (err) { /* the next poll tries again */ }
    }, 500);
  });

  stopButton.addEventListener("click", async () => {
    if (!live) return;
    const id = live.id;
    if (recorder && recorder.state !== "inactive") recorder.stop();
    await queue;
    try { await post(url(form.dataset.stopUrl, id), new FormData()); } catch (err) { /* shown below */ }
    finish();
  });
})();
