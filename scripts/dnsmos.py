"""DNSMOS (P.835: SIG, BAK, OVRL; and P.808) of the speech in a render, as a regression
guard for the voice (it scores noise and distortion, not naturalness).

    pip install speechmos librosa soundfile   # a measuring environment of its own
    python scripts/dnsmos.py RENDER.wav [RENDER2.wav ...]

Speech-only frames: the file's 10 ms frames within 35 dB of its loudest are kept (the
silences between phrases dropped, as the voice review measured), then scored in 9 s
clips by Microsoft's DNSMOS models that the ``speechmos`` wheel ships; the means print.
"""

from __future__ import annotations

import sys

import numpy as np
import soundfile as sf


def speech_only(x: np.ndarray, rate: int) -> np.ndarray:
    frame = rate // 100
    n = len(x) // frame
    frames = x[: n * frame].reshape(n, frame)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    return frames[level > level.max() - 35].reshape(-1)


def main() -> None:
    import librosa
    from speechmos import dnsmos

    for path in sys.argv[1:]:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
        speech = librosa.resample(
            speech_only(audio.mean(axis=1), rate), orig_sr=rate, target_sr=16000
        )
        clip = round(9.01 * 16000)
        scores = [
            dnsmos.run(speech[i : i + clip], sr=16000)
            for i in range(0, len(speech) - clip + 1, clip)
        ]
        means = {
            k: float(np.mean([s[k] for s in scores]))
            for k in ("sig_mos", "bak_mos", "ovrl_mos", "p808_mos")
        }
        print(
            f"{path}: OVRL {means['ovrl_mos']:.2f}  SIG {means['sig_mos']:.2f}"
            f"  BAK {means['bak_mos']:.2f}  P.808 {means['p808_mos']:.2f}  ({len(scores)} clips)"
        )


if __name__ == "__main__":
    main()
