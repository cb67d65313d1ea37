// The test call's microphone: downsample to 16 kHz mono and hand the page
// 20 ms chunks of 16-bit little-endian PCM (voice/serializers.py's format).
// Averaging each group of input samples is a cheap low-pass before decimating,
// enough for speech recognition.
class Pcm16Downsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const target = (options.processorOptions && options.processorOptions.targetRate) || 16000;
    this.ratio = sampleRate / target;
    this.chunk = new Int16Array(Math.round(target * 0.02));
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
    this.position = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      this.sum += channel[i];
      this.count += 1;
      this.position += 1;
      if (this.position >= this.ratio) {
        this.position -= this.ratio;
        const sample = Math.max(-1, Math.min(1, this.sum / this.count));
        this.chunk[this.filled++] = sample < 0 ? sample * 0x8000 : sample * 0x7fff;
        this.sum = 0;
        this.count = 0;
        if (this.filled === this.chunk.length) {
          const out = this.chunk.slice(0);
          this.port.postMessage(out.buffer, [out.buffer]);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm16-downsampler", Pcm16Downsampler);
