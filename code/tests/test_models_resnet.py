"""The CIFAR ResNet of the random-erasing authors' Fashion-MNIST script: shapes and counts."""

from __future__ import annotations

import pytest

from googlenet import cost
from googlenet.models import resnet


def test_resnet20_shapes_follow_the_three_stages():
    model = resnet.resnet_cifar(20)
    assert model.output.shape[1:] == (10,)
    for stage, (side, channels) in enumerate(((28, 16), (14, 32), (7, 64)), start=1):
        assert model.get_layer(f"stage{stage}_block3_out").output.shape[1:] == (side, side, channels)
    # a projection shortcut only where a block changes the shape: the first block of stages 2 and 3
    shortcuts = [layer.name for layer in model.layers if layer.name.endswith("_shortcut")]
    assert shortcuts == ["stage2_block1_shortcut", "stage3_block1_shortcut"]
    assert cost.conv_depth(model) == 19  # 19 convolutions on the longest path, then the dense layer


def test_resnet20_parameters_counted_by_hand():
    """Convolutions (no bias), batch norm (2 trainable per channel), shortcuts and the dense layer."""
    convs = 9 * 1 * 16 + 6 * 9 * 16 * 16 + 9 * 16 * 32 + 5 * 9 * 32 * 32 + 9 * 32 * 64 + 5 * 9 * 64 * 64
    shortcuts = 16 * 32 + 32 * 64
    bn_channels = 16 + 6 * 16 + 6 * 32 + 6 * 64 + 32 + 64  # stem, 3 x 2 per stage, the two shortcuts
    dense = 64 * 10 + 10
    trainable = convs + shortcuts + 2 * bn_channels + dense
    model = resnet.resnet_cifar(20)
    assert trainable == 272_186
    assert cost.trainable_params(model) == trainable
    assert cost.total_params(model) == trainable + 2 * bn_channels  # the moving mean and variance


@pytest.mark.parametrize("depth", [21, 44, 2, True])
def test_depths_the_builder_does_not_make_are_refused(depth):
    with pytest.raises(ValueError, match="depth"):
        resnet.resnet_cifar(depth)
