from __future__ import annotations

from pathlib import Path

import keras
import pytest

from googlenet import precision

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("fixture", "native"),
    [
        ("cpuinfo_amd_zen5.txt", ["avx512_bf16"]),  # this book's machine: AVX512-BF16, no AMX
        ("cpuinfo_intel_sapphire_rapids.txt", ["avx512_bf16", "amx_bf16"]),
        ("cpuinfo_intel_skylake.txt", []),  # AVX-512 without BF16
        ("cpuinfo_arm_neoverse_v1.txt", ["bf16"]),  # AArch64 lists "Features", not "flags"
    ],
)
def test_bf16_detection_on_cpuinfo_fixtures(fixture, native):
    flags = precision.read_cpu_flags(FIXTURES / fixture)
    assert flags and precision.native_bf16(flags) == native
    sentence = precision.describe_bf16(flags)
    assert sentence.startswith("native bfloat16: yes" if native else "native bfloat16: no")


def test_unreadable_cpuinfo_means_unknown_and_float32(tmp_path):
    assert precision.read_cpu_flags(tmp_path / "missing") == set()
    assert precision.cpu_flags("processor : 0\nmodel name : something\n") == set()
    assert "unknown" in precision.describe_bf16(set()) and "float32" in precision.describe_bf16(set())


def test_using_precision_sets_and_restores_the_policy():
    before = keras.config.dtype_policy().name
    with precision.using_precision("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(ValueError, match="precision must be one of 'float32', 'mixed_bfloat16'"):
        with precision.using_precision("float16"):
            pass
    assert keras.config.dtype_policy().name == before


def _small(config="improved", **model_args):
    from dataclasses import replace

    from googlenet import recipes

    base = recipes.get(config)
    return replace(base, model_args=base.model_args | {"width": 0.5, **model_args})


@pytest.mark.parametrize("name", precision.PRECISIONS)
@pytest.mark.parametrize(("config", "args"), [("improved", {"num_modules": 2}), ("deep_aux", {"num_modules": 6})])
def test_every_precision_builds_and_trains_with_float32_logits(name, config, args):
    from dataclasses import replace

    import numpy as np
    import tensorflow as tf

    from googlenet.training import Trainer

    recipe = replace(_small(config, **args), precision=name)
    keras.utils.set_random_seed(0)
    model = recipe.build()
    assert keras.config.dtype_policy().name == "float32"  # the policy is restored after the build
    images = np.random.default_rng(0).integers(0, 255, (32, 28, 28, 1)).astype("float32")
    labels = keras.utils.to_categorical(np.arange(32) % 10, 10).astype("float32")
    outputs = model(images)
    for logits in outputs.values() if isinstance(outputs, dict) else [outputs]:
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in model.trainable_weights)
    trainer = Trainer(model, 2e-3)
    losses = [float(trainer.train_step(tf.constant(images), tf.constant(labels))["total"]) for _ in range(6)]
    assert losses[-1] < losses[0]


def test_a_bfloat16_model_saved_and_reloaded_in_safe_mode_predicts_identically(tmp_path):
    from dataclasses import replace

    import numpy as np

    from googlenet.models.heads import inference_model

    keras.utils.set_random_seed(0)
    model = inference_model(replace(_small("deep_aux", num_modules=6), precision="mixed_bfloat16").build())
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    images = np.random.default_rng(1).integers(0, 255, (16, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(reloaded.predict(images, verbose=0), model.predict(images, verbose=0))
    assert reloaded.output.dtype == "float32"


def test_precision_is_recorded_only_when_not_float32_and_refused_when_unknown():
    from dataclasses import replace

    from googlenet import recipes, run_folder

    assert "precision" not in recipes.IMPROVED.record()
    assert recipes.BF16.record()["precision"] == "mixed_bfloat16"
    assert run_folder._mismatches(recipes.IMPROVED.record(), recipes.BF16) == [
        "precision: the folder has 'float32', the command gives 'mixed_bfloat16'"
    ]
    with pytest.raises(ValueError, match="precision"):
        replace(recipes.IMPROVED, precision="float16")


def test_a_bfloat16_run_ships_a_float32_model_with_its_weights(tiny, tmp_path):
    from dataclasses import replace

    import numpy as np

    from googlenet import runs

    recipe = replace(_small(num_modules=2), precision="mixed_bfloat16", epochs=1, batch_size=16)
    meta = runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    shipped = keras.models.load_model(tmp_path / "run" / "model.keras", safe_mode=True)
    assert meta["inference_precision"] == "float32" and meta["run_config"]["precision"] == "mixed_bfloat16"
    assert {layer.dtype_policy.name for layer in shipped.layers} == {"float32"}
    from googlenet import evaluate

    assert meta["test_accuracy"] == evaluate.accuracy(shipped, tiny.x_test, tiny.y_test)
    assert np.isfinite(shipped.predict(tiny.x_test[:4, ..., None].astype("float32"), verbose=0)).all()
