from __future__ import annotations

from voice import engines


def test_it_loads_each_model_once_per_process() -> None:
    engines.warm_up()
    assert engines.whisper_model() is engines.whisper_model()
    assert engines.piper_voice() is engines.piper_voice()
    # warm_up() filled the caches, so no later call loaded anything again.
    assert engines.whisper_model.cache_info().misses == 1
    assert engines.piper_voice.cache_info().misses == 1


def test_it_resolves_the_bundled_models_from_installed_packages() -> None:
    assert (engines.bundled_whisper_dir() / "model.bin").exists()
    voice = engines.bundled_piper_voice()
    assert voice.exists() and voice.with_suffix(".onnx.json").exists()


def test_it_spots_a_decode_caught_in_a_loop() -> None:
    from voice.engines import _looping

    assert _looping("Can we set up an appointment for next week? Can we set up an appointment for next week? Can we")
    assert not _looping("Can we set up an appointment for next week?")
    assert not _looping("Yes. Yes.")  # short repeats are how people talk
