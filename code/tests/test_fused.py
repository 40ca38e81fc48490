"""The fused layers compute what the plain ones compute: outputs, gradients, moving statistics."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from googlenet import blocks, cost, fused
from googlenet.models import improved


def _images(n: int = 8, seed: int = 0) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1)).astype("float32"))


def _max_diff(a, b) -> float:
    return float(tf.reduce_max(tf.abs(tf.convert_to_tensor(a) - tf.convert_to_tensor(b))))


def _outputs_and_grads(layer_or_model, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer_or_model(x, training=True)
        loss = tf.reduce_sum(y * upstream)
    variables = layer_or_model.trainable_variables
    return y, tape.gradient(loss, [x, *variables])


@pytest.mark.parametrize("momentum", [0.99, 0.9])
def test_fused_batch_norm_matches_keras_batch_norm(momentum):
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(2.0, 3.0, (16, 7, 7, 12)).astype("float32"))
    upstream = tf.constant(rng.normal(size=(16, 7, 7, 12)).astype("float32"))
    plain = layers.BatchNormalization(epsilon=1e-3, momentum=momentum)
    fast = fused.FusedBatchNormalization(epsilon=1e-3, momentum=momentum)
    plain.build(x.shape)
    fast.build(x.shape)
    plain.gamma.assign(rng.normal(1.0, 0.3, 12).astype("float32"))
    plain.beta.assign(rng.normal(0.0, 0.3, 12).astype("float32"))
    fast.set_weights(plain.get_weights())
    y_plain, g_plain = _outputs_and_grads(plain, x, upstream)
    y_fast, g_fast = _outputs_and_grads(fast, x, upstream)
    assert _max_diff(y_plain, y_fast) < 1e-4
    for a, b in zip(g_plain, g_fast, strict=True):
        assert _max_diff(a, b) < 1e-3 * (1 + float(tf.reduce_max(tf.abs(a))))
    # the moving statistics moved, and moved identically (biased batch variance)
    assert _max_diff(plain.moving_mean, tf.zeros(12)) > 1e-3
    for a, b in zip(plain.get_weights(), fast.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert _max_diff(plain(x, training=False), fast(x, training=False)) < 1e-5


def test_fused_batch_norm_falls_back_for_non_image_inputs():
    x = tf.constant(np.random.default_rng(2).normal(size=(32, 5)).astype("float32"))
    plain, fast = layers.BatchNormalization(), fused.FusedBatchNormalization()
    plain.build(x.shape)
    fast.build(x.shape)
    assert _max_diff(plain(x, training=True), fast(x, training=True)) < 1e-6


def test_split_channels_shapes_config_and_bad_sizes():
    split = fused.SplitChannels([2, 3, 1])
    parts = split(tf.reshape(tf.range(2 * 4 * 4 * 6, dtype="float32"), (2, 4, 4, 6)))
    assert [tuple(p.shape) for p in parts] == [(2, 4, 4, 2), (2, 4, 4, 3), (2, 4, 4, 1)]
    assert split.compute_output_shape((None, 4, 4, 6)) == [(None, 4, 4, 2), (None, 4, 4, 3), (None, 4, 4, 1)]
    assert fused.SplitChannels.from_config(split.get_config()).sizes == [2, 3, 1]
    for bad in ([], [2, 0], [-1]):
        with pytest.raises(ValueError, match="sizes must be positive"):
            fused.SplitChannels(bad)


def _module_pair(batch_norm: bool):
    widths = {
        "filters_1x1": 8,
        "reduce_3x3": 6,
        "filters_3x3": 10,
        "reduce_5x5": 3,
        "filters_5x5": 4,
        "pool_proj": 5,
    }

    def build(fast: bool):
        inputs = keras.Input((9, 9, 7))
        out = blocks.inception_module(inputs, name="m", batch_norm=batch_norm, fast=fast, **widths)
        return keras.Model(inputs, out, name=f"fast_{fast}")

    keras.utils.set_random_seed(3)
    plain, fast = build(False), build(True)
    assert fused.transfer_weights(plain, fast) > 0
    return plain, fast


@pytest.mark.parametrize("batch_norm", [False, True])
def test_fused_inception_module_computes_the_same_outputs_and_gradients(batch_norm):
    plain, fast = _module_pair(batch_norm)
    assert plain.count_params() == fast.count_params()
    assert cost.total_macs(plain) == cost.total_macs(fast)
    rng = np.random.default_rng(4)
    x = tf.constant(rng.normal(size=(4, 9, 9, 7)).astype("float32"))
    upstream = tf.constant(rng.normal(size=(4, 9, 9, 27)).astype("float32"))
    assert _max_diff(plain(x, training=False), fast(x, training=False)) < 1e-5
    y_plain, g_plain = _outputs_and_grads(plain, x, upstream)
    y_fast, g_fast = _outputs_and_grads(fast, x, upstream)
    assert _max_diff(y_plain, y_fast) < 1e-4
    assert _max_diff(g_plain[0], g_fast[0]) < 1e-3  # gradient with respect to the input
    # the fused kernel's gradient is the concatenation of the three plain kernels' gradients
    grads_plain = {v.path: g for v, g in zip(plain.trainable_variables, g_plain[1:], strict=True)}
    grads_fast = {v.path: g for v, g in zip(fast.trainable_variables, g_fast[1:], strict=True)}
    fused_kernel = next(g for p, g in grads_fast.items() if p.startswith("m_fused_1x1/"))
    parts = [next(g for p, g in grads_plain.items() if p.startswith(f"m_{part}/")) for part in fused.FUSED_PARTS]
    assert _max_diff(fused_kernel, tf.concat(parts, axis=-1)) < 1e-3


def test_improved_build_fast_and_plain_are_the_same_function():
    keras.utils.set_random_seed(5)
    plain = improved.improved_net(fast=False, dropout=0.0)
    fast = improved.improved_net(fast=True, dropout=0.0)
    assert fused.transfer_weights(plain, fast) == sum(1 for layer in fast.layers if layer.weights)
    assert (plain.count_params(), cost.total_macs(plain)) == (fast.count_params(), cost.total_macs(fast))
    x = _images(8)
    assert _max_diff(plain(x, training=False), fast(x, training=False)) < 1e-4
    assert _max_diff(plain(x, training=True), fast(x, training=True)) < 1e-3
    kinds = {type(layer).__name__ for layer in fast.layers}
    assert {"FusedBatchNormalization", "SplitChannels"} <= kinds and "BatchNormalization" not in kinds


def test_fast_build_saves_and_reloads_in_safe_mode(tmp_path):
    model = improved.improved_net(fast=True)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    x = _images(4, seed=6)
    np.testing.assert_array_equal(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))


def test_transfer_weights_names_what_does_not_fit():
    plain = improved.improved_net(num_modules=2, fast=False)
    with pytest.raises(ValueError, match="inception_3_fused_1x1.* needs"):
        fused.transfer_weights(plain, improved.improved_net(num_modules=3, fast=True))
    with pytest.raises(ValueError, match="aux1_fc.* no counterpart"):
        fused.transfer_weights(
            improved.improved_net(num_modules=6, fast=False),
            improved.improved_net(num_modules=6, aux_heads=True, fast=True),
        )
    with pytest.raises(ValueError, match="do not fit"):
        fused.transfer_weights(
            improved.improved_net(num_modules=2, width=2.0, fast=False),
            improved.improved_net(num_modules=2, fast=True),
        )


def _import_in_child(env_extra: dict) -> subprocess.CompletedProcess:
    code = (
        "import googlenet\nfrom tensorflow.python.util import _pywrap_util_port as p\n"
        "import tensorflow as tf\ntf.constant(1.0) + 1\nprint(p.IsMklEnabled())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run([sys.executable, "-c", code], env=env | env_extra, capture_output=True, text=True, check=True)


def test_importing_the_package_turns_onednn_on_and_writes_nothing_to_stderr():
    done = _import_in_child({})
    assert done.stdout.strip() == "True"
    assert done.stderr == ""


def test_onednn_can_be_turned_off_before_import():
    done = _import_in_child({"TF_ENABLE_ONEDNN_OPTS": "0"})
    assert done.stdout.strip() == "False"
    assert done.stderr == ""
