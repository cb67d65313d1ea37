from __future__ import annotations

from voice import engines


def test_it_loads_each_model_once_per_process() -> None:
    engines.warm_up_in_background().join(timeout=120)
    assert engines.whisper_model() is engines.whisper_model()
    assert engines.piper_voice() is engines.piper_voice()
    # warm_up() filled the caches, so no later call loaded anything again.
    assert engines.whisper_model.cache_info().misses == 1
    assert engines.piper_voice.cache_info().misses == 1


def test_it_resolves_the_bundled_models_from_installed_packages() -> None:
    assert (engines.bundled_whisper_dir() / "model.bin").exists()
    voice = engines.bundled_piper_voice()
    assert voice.exists() and voice.with_suffix(".onnx.json").exists()
